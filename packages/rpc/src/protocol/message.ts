/**
 * Whole messages as plain objects, for tools, tests and other languages' implementers: encode
 * one into a complete frame, or decode a frame body into one. The connection code does not use
 * these (it writes into the connection's writer and reads headers in place); they share its
 * encoder and decoder, so the bytes are the same.
 */
import { Buffer } from 'node:buffer';
import { InvalidArgumentError } from '../errors';
import { ascii, decodeHeader, decodeMetadata, MessageHeader } from './decode';
import {
  encodeMetadata,
  encodeMethod,
  type FrameWriter,
  type Metadata,
  writeControl,
  writeError,
  writeRequest,
  writeResponse,
} from './encode';
import { Kind, kFlagDeadline, type LengthHeader, type MessageKind } from './frame';

/** One message. Fields a kind does not have are absent. */
export interface Message {
  kind: MessageKind;
  seq: number;
  /** REQUEST/ONE_WAY. */
  method?: string;
  /** REQUEST/ONE_WAY: ms left to the deadline (absent: none). */
  timeout?: number;
  /** ERROR. */
  code?: string;
  /** ERROR. */
  message?: string;
  /** RESPONSE/ERROR: the server closes the connection after it. */
  closing?: boolean;
  /** ERROR: the server refused the request before any handler ran (REFUSED). */
  refused?: boolean;
  /** CANCEL: the call was given up because its deadline passed (DEADLINE). */
  expired?: boolean;
  metadata?: Metadata;
  payload: Buffer;
}

/** Collects what the encoders write into one Buffer. */
class CollectingWriter implements FrameWriter {
  readonly parts: Buffer[] = [];
  reserved: Buffer = Buffer.alloc(0);
  reserve(n: number): number {
    this.reserved = Buffer.alloc(n);
    this.parts.push(this.reserved);
    return 0;
  }
  writeBinary(data: Uint8Array): number {
    this.parts.push(Buffer.from(data));
    return data.length;
  }
  writeString(text: string): number {
    const part = Buffer.from(text, 'utf8');
    this.parts.push(part);
    return part.length;
  }
}

/**
 * The complete frame of `message` (length header included). Throws `ERR_NETPOLL_INVALID_ARG`
 * for fields the kind needs and lacks, and `ERR_NETPOLL_RPC_FRAME_TOO_LARGE` above
 * `maxFrameSize` or what the length header can express (255 bytes for 1, 65535 for 2).
 */
export function encodeMessage(
  message: Message,
  lengthHeader: LengthHeader = 4,
  maxFrameSize = 4 * 1024 * 1024,
): Buffer {
  const writer = new CollectingWriter();
  const metadata = encodeMetadata(message.metadata, 'message.metadata');
  switch (message.kind) {
    case Kind.REQUEST:
    case Kind.ONE_WAY:
      writeRequest(
        writer,
        lengthHeader,
        maxFrameSize,
        message.kind,
        message.seq,
        encodeMethod(message.method as string, 'message.method'),
        message.timeout ?? 0,
        metadata,
        message.payload,
      );
      break;
    case Kind.RESPONSE:
      writeResponse(
        writer,
        lengthHeader,
        maxFrameSize,
        message.seq,
        metadata,
        message.payload,
        message.closing === true,
      );
      break;
    case Kind.ERROR:
      writeError(
        writer,
        lengthHeader,
        maxFrameSize,
        message.seq,
        encodeMethod(message.code as string, 'message.code').toString('latin1'),
        message.message ?? '',
        metadata,
        message.closing === true,
        message.refused === true,
        message.payload,
      );
      break;
    case Kind.PING:
    case Kind.PONG:
    case Kind.GOAWAY:
    case Kind.CANCEL:
      writeControl(
        writer,
        lengthHeader,
        message.kind,
        message.seq,
        message.payload,
        message.kind === Kind.CANCEL && message.expired === true ? kFlagDeadline : 0,
      );
      break;
    default:
      throw new InvalidArgumentError('message.kind', 'a message kind from 1 to 8', message.kind);
  }
  return Buffer.concat(writer.parts);
}

/** Decodes one frame body (without its length header); throws `ERR_NETPOLL_RPC_PROTOCOL`. */
export function decodeMessage(body: Buffer): Message {
  const header = new MessageHeader();
  decodeHeader(body, 0, body.length, header);
  const message: Message = {
    kind: header.kind as MessageKind,
    seq: header.seq,
    payload: Buffer.from(body.subarray(header.payloadStart, header.payloadEnd)),
  };
  if (header.kind === Kind.REQUEST || header.kind === Kind.ONE_WAY) {
    message.method = ascii(body, header.methodStart, header.methodLength);
    if (header.timeout > 0) message.timeout = header.timeout;
  }
  if (header.kind === Kind.ERROR) {
    message.code = ascii(body, header.codeStart, header.codeLength);
    message.message = body.toString(
      'utf8',
      header.messageStart,
      header.messageStart + header.messageLength,
    );
  }
  if (header.closing) message.closing = true;
  if (header.refused) message.refused = true;
  if (header.kind === Kind.CANCEL && (header.flags & kFlagDeadline) !== 0) message.expired = true;
  if (header.metadataStart >= 0) message.metadata = { ...decodeMetadata(body, header) };
  return message;
}
