/**
 * How payloads become bytes and back. The default, {@link rawSerializer}, passes `Buffer`s
 * through; {@link jsonSerializer} uses JSON; any object with `encode`/`decode` (protobuf, msgpack)
 * works the same way.
 */
import { Buffer } from 'node:buffer';
import { InvalidArgumentError } from './errors';

/**
 * Encodes values of type `T` into payload bytes and decodes them back.
 *
 * `encode(value)` returns the bytes to send, or a string to send as its UTF-8 bytes (written
 * straight into the frame: a text format such as JSON saves a copy and an allocation per
 * message). Bytes are copied into the connection's output, or referenced until it is flushed
 * (above 4 KiB, within the same tick), so do not change them meanwhile. `decode(bytes)` gets a view that is valid only during the call: return a value
 * that does not alias it. Both may throw; the call then fails with
 * `ERR_NETPOLL_RPC_SERIALIZATION` (on the server, the request is answered `INVALID_ARGUMENT`).
 */
export interface Serializer<T = unknown> {
  encode(value: T): Uint8Array | string;
  decode(bytes: Buffer): T;
}

/**
 * Payloads are `Buffer`s (any `Uint8Array` is accepted when sending). Decoding copies, since the
 * view dies with the call — except for a server handler's request, which gets the view itself:
 * valid until the handler's promise settles (copy it to keep it longer).
 */
export const rawSerializer: Serializer<Buffer> = Object.freeze({
  encode(value: Buffer): Uint8Array {
    if (!(value instanceof Uint8Array)) {
      throw new InvalidArgumentError('payload', 'a Buffer or Uint8Array', value);
    }
    return value;
  },
  decode(bytes: Buffer): Buffer {
    return Buffer.from(bytes);
  },
});

/**
 * Payloads are JSON: any value `JSON.stringify` accepts (`undefined` is sent as `null`). The text
 * goes into the frame as UTF-8 without an intermediate Buffer.
 */
export const jsonSerializer: Serializer<unknown> = Object.freeze({
  encode(value: unknown): string {
    return JSON.stringify(value) ?? 'null';
  },
  decode(bytes: Buffer): unknown {
    return JSON.parse(bytes.toString('utf8'));
  },
});

/** A serializer option: `'raw'`, `'json'`, or an object with `encode` and `decode`. */
export type SerializerOption = 'raw' | 'json' | Serializer<unknown>;

/** Resolves a serializer option (validated). */
export function resolveSerializer(value: unknown, path: string): Serializer<unknown> {
  if (value === undefined || value === 'raw') return rawSerializer as Serializer<unknown>;
  if (value === 'json') return jsonSerializer;
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Serializer).encode === 'function' &&
    typeof (value as Serializer).decode === 'function'
  ) {
    return value as Serializer<unknown>;
  }
  throw new InvalidArgumentError(path, "'raw', 'json' or an object with encode and decode", value);
}
