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
class ViewBuffer extends Uint8Array {}
Object.setPrototypeOf(ViewBuffer.prototype, Buffer.prototype);
Object.defineProperty(ViewBuffer.prototype, 'constructor', {
  value: Buffer,
  writable: true,
  configurable: true,
});

/** A Buffer aliasing `buffer[start, end)` (no copy); the caller guarantees the bounds. */
export function viewOf(buffer: Buffer, start: number, end: number): Buffer {
  const memory = buffer.buffer as ArrayBuffer; // SharedArrayBuffer works the same at run time
  return new ViewBuffer(memory, buffer.byteOffset + start, end - start) as unknown as Buffer;
}
