/**
 * Writes messages of the wire format (README "Wire format") straight into a connection's writer:
 * one reservation (`reserve`: no view) for the length header, the message header and the payload,
 * copied there at once, so the caller may change or free its bytes as soon as a write returns.
 * (Linking a large payload instead would save nothing: core copies memory it does not own into
 * outbound memory at flush anyway, and the bytes would have to stay unchanged until then.) A string
 * above 4 KiB is encoded after the header instead, without measuring it twice. Nothing here
 * allocates except a metadata block, and only when metadata is sent.
 */
import { Buffer } from 'node:buffer';
import * as linkbuffer from '@netpoll/linkbuffer';
import { frameTooLargeError, InvalidArgumentError } from '../errors';
import {
  Kind,
  kFixedHeaderSize,
  kFlagClosing,
  kFlagDeadline,
  kFlagMetadata,
  kFlagRefused,
  kMaxLongString,
  kMaxMetadataEntries,
  kProtocolVersion,
  kShortAscii,
  type LengthHeader,
  type MessageKind,
} from './frame';

// Read once: a package's exports (tsc's re-exports) are getters on an object in dictionary mode,
// so `putUint32(...)` through the import would look the name up and call a getter per message.
const { putUint16, putUint32 } = linkbuffer;

/**
 * The largest body each length header can express, by its size in bytes (a table: `2 ** n` with
 * a variable `n` is a floating-point power per call).
 */
const kLengthHeaderLimit = [0, 0xff, 0xffff, 0, 0xffffffff];

/** What the encoders need of a writer: `@netpoll/core`'s `ConnectionWriter` has it. */
export interface FrameWriter {
  reserve(n: number): number;
  readonly reserved: Buffer;
  writeBinary(data: Uint8Array): number;
  writeString(text: string): number;
}

/**
 * A payload as a serializer returns it: bytes, or a string sent as its UTF-8 bytes — written
 * straight into the frame, without the intermediate Buffer of `Buffer.from(text)`.
 */
export type Payload = Uint8Array | string;

/** Throws `ERR_NETPOLL_INVALID_ARG` unless a serializer returned bytes or a string. */
export function checkPayload(value: unknown, path: string): asserts value is Payload {
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
    throw new InvalidArgumentError(path, 'a Uint8Array or a string', value);
  }
}

/** The bytes `payload` takes on the wire. */
export function payloadSize(payload: Payload): number {
  return typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length;
}

/** Strings up to this size are encoded into the header's reservation; larger ones after it. */
const kInlineString = 4096;

/** Metadata as sent: string keys (ASCII) to string values. */
export type Metadata = Readonly<Record<string, string>>;

/**
 * Encodes metadata into its wire block (`u8 count`, then entries), or returns null for none.
 * Throws `ERR_NETPOLL_INVALID_ARG` for a key that is empty, longer than 255 bytes or not
 * printable ASCII, a value longer than 65535 bytes or not a string, or more than 255 entries.
 */
export function encodeMetadata(metadata: Metadata | undefined, path: string): Buffer | null {
  if (metadata === undefined) return null;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new InvalidArgumentError(path, 'an object of string values', metadata);
  }
  const keys = Object.keys(metadata);
  if (keys.length === 0) return null;
  if (keys.length > kMaxMetadataEntries) {
    throw new InvalidArgumentError(path, `at most ${kMaxMetadataEntries} entries`, keys.length);
  }
  let size = 1;
  const values: Buffer[] = [];
  for (const key of keys) {
    if (!kShortAscii.test(key)) {
      throw new InvalidArgumentError(`${path} key`, '1 to 255 printable ASCII characters', key);
    }
    const value = metadata[key];
    if (typeof value !== 'string') {
      throw new InvalidArgumentError(`${path}.${key}`, 'a string', value);
    }
    const bytes = Buffer.from(value, 'utf8');
    if (bytes.length > kMaxLongString) {
      throw new InvalidArgumentError(`${path}.${key}`, 'at most 65535 bytes of UTF-8', value);
    }
    values.push(bytes);
    size += 1 + key.length + 2 + bytes.length;
  }
  const block = Buffer.allocUnsafe(size);
  block[0] = keys.length;
  let offset = 1;
  keys.forEach((key, index) => {
    block[offset++] = key.length;
    offset += block.write(key, offset, 'latin1');
    const value = values[index]!;
    block.writeUInt16BE(value.length, offset);
    offset += 2;
    offset += value.copy(block, offset);
  });
  return block;
}

/** A method name as sent (ASCII bytes), checked once. */
export function encodeMethod(method: string, path: string): Buffer {
  if (typeof method !== 'string' || !kShortAscii.test(method)) {
    throw new InvalidArgumentError(path, '1 to 255 printable ASCII characters', method);
  }
  return Buffer.from(method, 'latin1');
}

/** Copies `bytes` to `at`: a short method name or code byte by byte, cheaper than a native copy. */
function putBytes(buf: Buffer, at: number, bytes: Uint8Array): number {
  const length = bytes.length;
  if (length > 16) buf.set(bytes, at);
  else for (let i = 0; i < length; i++) buf[at + i] = bytes[i]!;
  return length;
}

function writeFixed(buf: Buffer, at: number, kind: MessageKind, flags: number, seq: number): void {
  buf[at] = (kProtocolVersion << 4) | kind;
  buf[at + 1] = flags;
  putUint32(buf, at + 2, seq);
}

/**
 * Starts a frame whose message header is `headerSize` bytes, followed by a payload of
 * `payloadSize`: checks the body against `maxFrameSize` (throwing
 * `ERR_NETPOLL_RPC_FRAME_TOO_LARGE` before anything is written), reserves the length header,
 * the message header and an inline payload in `writer.reserved`, writes the length, and returns
 * where the message header starts there. The caller fills the header, then calls
 * {@link finishFrame}.
 */
function startFrame(
  writer: FrameWriter,
  lengthHeader: LengthHeader,
  maxFrameSize: number,
  headerSize: number,
  payload: Payload | null,
  payloadSize: number,
): number {
  const body = headerSize + payloadSize;
  const limit = Math.min(maxFrameSize, kLengthHeaderLimit[lengthHeader]!);
  if (body > limit) throw frameTooLargeError(body, limit);
  const inline = typeof payload !== 'string' || payloadSize <= kInlineString;
  const at = writer.reserve(lengthHeader + (inline ? body : headerSize));
  const buf = writer.reserved;
  if (lengthHeader === 4) putUint32(buf, at, body);
  else if (lengthHeader === 2) putUint16(buf, at, body);
  else buf[at] = body;
  return at + lengthHeader;
}

/**
 * Adds the payload of `size` bytes at `at`, where the header ends: copied into the reservation
 * (a long string encoded after it).
 */
function finishFrame(
  writer: FrameWriter,
  buf: Buffer,
  at: number,
  payload: Payload | null,
  size: number,
): void {
  if (payload === null || size === 0) return;
  if (typeof payload !== 'string') buf.set(payload, at);
  else if (size <= kInlineString) buf.write(payload, at, size, 'utf8');
  else writer.writeString(payload);
}

/**
 * REQUEST or ONE_WAY: method, the time left in ms (0: no deadline), metadata, payload. `size`:
 * the payload's {@link payloadSize}, when the caller has it already (a string's is a scan).
 */
export function writeRequest(
  writer: FrameWriter,
  lengthHeader: LengthHeader,
  maxFrameSize: number,
  kind: typeof Kind.REQUEST | typeof Kind.ONE_WAY,
  seq: number,
  method: Buffer,
  timeout: number,
  metadata: Buffer | null,
  payload: Payload,
  size = payloadSize(payload),
): void {
  let flags = 0;
  let headerSize = kFixedHeaderSize + 1 + method.length;
  if (timeout > 0) {
    flags |= kFlagDeadline;
    headerSize += 4;
  }
  if (metadata !== null) {
    flags |= kFlagMetadata;
    headerSize += metadata.length;
  }
  let at = startFrame(writer, lengthHeader, maxFrameSize, headerSize, payload, size);
  const buf = writer.reserved;
  writeFixed(buf, at, kind, flags, seq);
  at += kFixedHeaderSize;
  buf[at++] = method.length;
  at += putBytes(buf, at, method);
  if (timeout > 0) {
    putUint32(buf, at, Math.min(Math.ceil(timeout), 0xffffffff));
    at += 4;
  }
  if (metadata !== null) at += putBytes(buf, at, metadata);
  finishFrame(writer, buf, at, payload, size);
}

/** RESPONSE: metadata, payload; `closing` sets CLOSING. */
export function writeResponse(
  writer: FrameWriter,
  lengthHeader: LengthHeader,
  maxFrameSize: number,
  seq: number,
  metadata: Buffer | null,
  payload: Payload,
  closing: boolean,
): void {
  const size = payloadSize(payload);
  const flags = (metadata === null ? 0 : kFlagMetadata) | (closing ? kFlagClosing : 0);
  const headerSize = kFixedHeaderSize + (metadata === null ? 0 : metadata.length);
  let at = startFrame(writer, lengthHeader, maxFrameSize, headerSize, payload, size);
  const buf = writer.reserved;
  writeFixed(buf, at, Kind.RESPONSE, flags, seq);
  at += kFixedHeaderSize;
  if (metadata !== null) at += putBytes(buf, at, metadata);
  finishFrame(writer, buf, at, payload, size);
}

/**
 * ERROR: code (1–255 ASCII), message (cut to what fits, at most 65535 bytes), metadata, and the
 * optional details payload. `refused`: the server refused the request before any handler ran
 * (REFUSED) — never for an error a handler or interceptor answered.
 */
export function writeError(
  writer: FrameWriter,
  lengthHeader: LengthHeader,
  maxFrameSize: number,
  seq: number,
  code: string,
  message: string,
  metadata: Buffer | null,
  closing: boolean,
  refused: boolean,
  details: Uint8Array | null = null,
): void {
  const metadataSize = metadata === null ? 0 : metadata.length;
  const detailsSize = details === null ? 0 : details.length;
  // Bytes left for the message once the header's other fields are in.
  const left = maxFrameSize - kFixedHeaderSize - 3 - code.length - metadataSize - detailsSize;
  if (left < 0) {
    // Not even the code fits (a long custom code, a small maxFrameSize): the call still gets an
    // error — INTERNAL, which fits in the smallest frame allowed — rather than no reply at all.
    const what = `the error (code ${code}) does not fit in maxFrameSize`;
    writeError(writer, lengthHeader, maxFrameSize, seq, 'INTERNAL', what, null, closing, refused);
    return;
  }
  let text = Buffer.from(message, 'utf8');
  // The header must fit the frame: cut an over-long message rather than lose the error.
  const room = Math.min(kMaxLongString, left);
  if (text.length > room) {
    // Cut before the character the limit falls in, so the message stays valid UTF-8.
    let cut = room;
    while (cut > 0 && (text[cut]! & 0xc0) === 0x80) cut--;
    text = text.subarray(0, cut);
  }
  const flags =
    (metadata === null ? 0 : kFlagMetadata) |
    (closing ? kFlagClosing : 0) |
    (refused ? kFlagRefused : 0);
  const headerSize = kFixedHeaderSize + 1 + code.length + 2 + text.length + metadataSize;
  let at = startFrame(writer, lengthHeader, maxFrameSize, headerSize, details, detailsSize);
  const buf = writer.reserved;
  writeFixed(buf, at, Kind.ERROR, flags, seq);
  at += kFixedHeaderSize;
  buf[at++] = code.length;
  at += buf.write(code, at, 'latin1');
  putUint16(buf, at, text.length);
  at += 2;
  at += putBytes(buf, at, text);
  if (metadata !== null) at += putBytes(buf, at, metadata);
  finishFrame(writer, buf, at, details, detailsSize);
}

/**
 * PING, PONG, GOAWAY or CANCEL: no kind fields; PING/PONG carry up to 64 opaque bytes. `flags`:
 * `DEADLINE` on a CANCEL whose call's deadline passed, else none.
 */
export function writeControl(
  writer: FrameWriter,
  lengthHeader: LengthHeader,
  kind: typeof Kind.PING | typeof Kind.PONG | typeof Kind.GOAWAY | typeof Kind.CANCEL,
  seq: number,
  payload: Uint8Array | null,
  flags = 0,
): void {
  const size = payload === null ? 0 : payload.length;
  const at = startFrame(
    writer,
    lengthHeader,
    Number.MAX_SAFE_INTEGER,
    kFixedHeaderSize,
    payload,
    size,
  );
  const buf = writer.reserved;
  writeFixed(buf, at, kind, flags, seq);
  finishFrame(writer, buf, at + kFixedHeaderSize, payload, size);
}
