/**
 * Reads message headers of the wire format (README "Wire format") from a frame body, without
 * copying: {@link decodeHeader} fills a reusable {@link MessageHeader} with the fields and the
 * offsets of the variable parts. Every field is bounds-checked against the body; anything the
 * format does not allow throws `ERR_NETPOLL_RPC_PROTOCOL`, never reads past the body and never
 * allocates more than the body's own size.
 */
import type { Buffer } from 'node:buffer';
import * as linkbuffer from '@netpoll/linkbuffer';
import { protocolError } from '../errors';
import {
  Kind,
  kFixedHeaderSize,
  kFlagClosing,
  kFlagDeadline,
  kFlagMetadata,
  kFlagRefused,
  kKnownFlags,
  kMaxPingPayload,
  kProtocolVersion,
  type LengthHeader,
} from './frame';

// Read once (a getter per use otherwise: see encode.ts). Plain byte reads: `readUInt32BE` costs
// about four times as much here, and every offset is bounds-checked before it is read.
const { uint16At, uint32At } = linkbuffer;

/** The fields of one message; offsets index the body Buffer it was decoded from. */
export class MessageHeader {
  kind = 0;
  flags = 0;
  seq = 0;
  /** REQUEST/ONE_WAY: the method name's bytes. */
  methodStart = 0;
  methodLength = 0;
  /** REQUEST/ONE_WAY: ms left to the deadline, or 0 for none. */
  timeout = 0;
  /** The metadata block (`METADATA`), or -1. */
  metadataStart = -1;
  metadataEnd = -1;
  /** ERROR: the code's bytes (ASCII) and the message's (UTF-8). */
  codeStart = 0;
  codeLength = 0;
  messageStart = 0;
  messageLength = 0;
  /** The payload is `[payloadStart, end)` of the body. */
  payloadStart = 0;
  payloadEnd = 0;

  /** CLOSING: the server closes this connection after this reply. */
  get closing(): boolean {
    return (this.flags & kFlagClosing) !== 0;
  }

  /** REFUSED (ERROR only): the server refused the request before any handler ran. */
  get refused(): boolean {
    return (this.flags & kFlagRefused) !== 0;
  }
}

/** What {@link peekLength} needs of a reader: `@netpoll/core`'s `ConnectionReader` has it. */
export interface LengthPeeker {
  peek(n: number): Buffer;
  peekUint16BE(offset: number): number;
  peekUint32BE(offset: number): number;
}

/**
 * The body length in the length header at the front of `reader` (which holds a whole frame:
 * core's framing delivers only those), without consuming it.
 */
export function peekLength(reader: LengthPeeker, lengthHeader: LengthHeader): number {
  return lengthHeader === 4
    ? reader.peekUint32BE(0)
    : lengthHeader === 2
      ? reader.peekUint16BE(0)
      : reader.peek(1)[0]!;
}

/** Reads an ASCII string of `body[start, start + length)`. */
export function ascii(body: Buffer, start: number, length: number): string {
  return body.toString('latin1', start, start + length);
}

/**
 * Decodes the header of the message in `body[start, end)` into `header`. Throws
 * `ERR_NETPOLL_RPC_PROTOCOL` for another version, an unknown kind, reserved flag bits, a zero
 * method or code length, a field running past the body, a PING/PONG payload over 64 bytes, or
 * a flag the kind does not allow (`DEADLINE` only on REQUEST/ONE_WAY and CANCEL, `CLOSING` only
 * on RESPONSE/ERROR, `REFUSED` only on ERROR, none on the other control messages).
 */
export function decodeHeader(
  body: Buffer,
  start: number,
  end: number,
  header: MessageHeader,
): void {
  if (end - start < kFixedHeaderSize) throw protocolError('a message shorter than its header');
  const kindVersion = body[start]!;
  if (kindVersion >> 4 !== kProtocolVersion) {
    throw protocolError(
      `protocol version ${kindVersion >> 4} (this side speaks ${kProtocolVersion})`,
    );
  }
  const kind = kindVersion & 0x0f;
  const flags = body[start + 1]!;
  if ((flags & ~kKnownFlags) !== 0) throw protocolError(`reserved flag bits set (${flags})`);
  header.kind = kind;
  header.flags = flags;
  header.seq = uint32At(body, start + 2);
  header.metadataStart = -1;
  header.metadataEnd = -1;
  header.timeout = 0;
  let offset = start + kFixedHeaderSize;
  switch (kind) {
    case Kind.REQUEST:
    case Kind.ONE_WAY: {
      if ((flags & kFlagClosing) !== 0) throw protocolError('CLOSING on a request');
      if ((flags & kFlagRefused) !== 0) throw protocolError('REFUSED on a request');
      if (offset >= end) throw protocolError('a request without a method');
      const length = body[offset]!;
      if (length === 0) throw protocolError('an empty method name');
      offset++;
      if (offset + length > end) throw protocolError('a method name past the message');
      header.methodStart = offset;
      header.methodLength = length;
      offset += length;
      if ((flags & kFlagDeadline) !== 0) {
        if (offset + 4 > end) throw protocolError('a deadline past the message');
        header.timeout = uint32At(body, offset);
        if (header.timeout === 0) throw protocolError('a deadline of 0 ms');
        offset += 4;
      }
      break;
    }
    case Kind.RESPONSE:
      if ((flags & kFlagDeadline) !== 0) throw protocolError('DEADLINE on a response');
      if ((flags & kFlagRefused) !== 0) throw protocolError('REFUSED on a response');
      break;
    case Kind.ERROR: {
      if ((flags & kFlagDeadline) !== 0) throw protocolError('DEADLINE on an error');
      if (offset >= end) throw protocolError('an error without a code');
      const codeLength = body[offset]!;
      if (codeLength === 0) throw protocolError('an empty error code');
      offset++;
      if (offset + codeLength + 2 > end) throw protocolError('an error code past the message');
      header.codeStart = offset;
      header.codeLength = codeLength;
      offset += codeLength;
      const messageLength = uint16At(body, offset);
      offset += 2;
      if (offset + messageLength > end) throw protocolError('an error message past the message');
      header.messageStart = offset;
      header.messageLength = messageLength;
      offset += messageLength;
      break;
    }
    case Kind.PING:
    case Kind.PONG:
    case Kind.GOAWAY:
    case Kind.CANCEL:
      // DEADLINE on a CANCEL: the call was given up because its deadline passed (no field).
      if (flags !== 0 && !(kind === Kind.CANCEL && flags === kFlagDeadline)) {
        throw protocolError(`flags on a control message (${flags})`);
      }
      if (kind === Kind.CANCEL && offset !== end) throw protocolError('a payload on a cancel');
      if (kind !== Kind.GOAWAY && end - offset > kMaxPingPayload) {
        throw protocolError(`a ping payload of ${end - offset} bytes (at most ${kMaxPingPayload})`);
      }
      break;
    default:
      throw protocolError(`unknown message kind ${kind}`);
  }
  if ((flags & kFlagMetadata) !== 0) {
    header.metadataStart = offset;
    offset = skipMetadata(body, offset, end);
    header.metadataEnd = offset;
  }
  header.payloadStart = offset;
  header.payloadEnd = end;
}

/** Walks a metadata block and returns where it ends (bounds-checked). */
function skipMetadata(body: Buffer, start: number, end: number): number {
  if (start >= end) throw protocolError('metadata past the message');
  const count = body[start]!;
  if (count === 0) throw protocolError('an empty metadata block');
  let offset = start + 1;
  for (let i = 0; i < count; i++) {
    if (offset >= end) throw protocolError('a metadata entry past the message');
    const keyLength = body[offset]!;
    if (keyLength === 0) throw protocolError('an empty metadata key');
    offset += 1 + keyLength;
    if (offset + 2 > end) throw protocolError('a metadata key past the message');
    const valueLength = uint16At(body, offset);
    offset += 2 + valueLength;
    if (offset > end) throw protocolError('a metadata value past the message');
  }
  return offset;
}

/** The metadata of a decoded header as a plain object (a later key replaces an earlier one). */
export function decodeMetadata(body: Buffer, header: MessageHeader): Record<string, string> {
  const metadata: Record<string, string> = Object.create(null);
  if (header.metadataStart < 0) return metadata;
  let offset = header.metadataStart;
  const count = body[offset++]!;
  for (let i = 0; i < count; i++) {
    const keyLength = body[offset++]!;
    const key = ascii(body, offset, keyLength);
    offset += keyLength;
    const valueLength = uint16At(body, offset);
    offset += 2;
    metadata[key] = body.toString('utf8', offset, offset + valueLength);
    offset += valueLength;
  }
  return metadata;
}
