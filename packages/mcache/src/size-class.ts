/**
 * Size-class arithmetic. Class `i` holds buffers whose capacity is exactly `2 ** i` bytes; a
 * request is served by the smallest class whose capacity is at least the requested capacity
 * (bytedance/gopkg `lang/mcache` rounds the same way: `Malloc(0)` is class 0, capacity 1).
 */

/** The most buffers one slab is carved into; bounds the per-slab bookkeeping arrays. */
export const kMaxBlocksPerSlab = 256;

/**
 * Returns the index of the smallest power-of-two class whose capacity is at least `capacity`.
 * `capacity` must be an integer from 0 to 2 ** 31; 0 and 1 both map to class 0.
 */
export function classIndexOf(capacity: number): number {
  return capacity <= 1 ? 0 : 32 - Math.clz32(capacity - 1);
}

/** How a class is laid out in slabs: buffers per slab and the slab's byte length. */
export interface SlabGeometry {
  readonly blockCount: number;
  readonly byteLength: number;
}

/**
 * Lays out class `index` in slabs of at most `slabSize` bytes: a class smaller than the slab
 * shares one slab among up to `kMaxBlocksPerSlab` buffers; a larger class gets a slab per buffer.
 */
export function slabGeometry(index: number, slabSize: number): SlabGeometry {
  const classSize = 2 ** index;
  if (classSize >= slabSize) return { blockCount: 1, byteLength: classSize };
  const blockCount = Math.min(kMaxBlocksPerSlab, slabSize / classSize);
  return { blockCount, byteLength: blockCount * classSize };
}
