/**
 * Cheap Buffer views for the read and write hot paths.
 *
 * `buffer.subarray(start, end)` looks up the species constructor on every call and goes through
 * `Buffer`'s generic constructor (about 45 ns per view on Node 20). Constructing a Uint8Array
 * subclass whose prototype chain includes `Buffer.prototype` costs about 19 ns and yields a real
 * Buffer: `Buffer.isBuffer()` is true and every Buffer method works. It is the construction Node
 * uses for its own internal `FastBuffer`; `constructor` is set to `Buffer` in the same way, so
 * `instance.constructor` and species-based methods behave like any Buffer.
 */
import { Buffer } from 'node:buffer';

class ViewBuffer extends Uint8Array {}
Object.setPrototypeOf(ViewBuffer.prototype, Buffer.prototype);
Object.defineProperty(ViewBuffer.prototype, 'constructor', {
  value: Buffer,
  writable: true,
  configurable: true,
});

/** A Buffer aliasing `buffer[start, end)` (no copy); the caller guarantees the bounds. */
export function viewOf(buffer: Buffer, start: number, end: number): Buffer {
  return viewIn(buffer.buffer, buffer.byteOffset + start, end - start);
}

/**
 * A Buffer aliasing `length` bytes of `memory` from `byteOffset` (no copy); the caller guarantees
 * the bounds. The hot paths keep `memory` and the offset of their Buffer at hand, because reading
 * `buffer.buffer` and `buffer.byteOffset` costs more than constructing the view.
 */
export function viewIn(memory: ArrayBufferLike, byteOffset: number, length: number): Buffer {
  // A SharedArrayBuffer works the same at run time; the constructor's typing only names ArrayBuffer.
  return new ViewBuffer(memory as ArrayBuffer, byteOffset, length) as unknown as Buffer;
}
