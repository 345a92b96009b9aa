/**
 * Size classes. Class `i` holds buffers whose capacity is exactly `2 ** i` bytes; a request is
 * served by the smallest class whose capacity is at least the requested capacity (bytedance/gopkg
 * `lang/mcache` rounds the same way: `Malloc(0)` is class 0, capacity 1).
 *
 * A class finds memory in this order: its free list (a hit), a dropped region of one of its
 * partial slabs, the next uncarved region of its current slab, a new slab (all misses).
 */
import { Buffer } from 'node:buffer';
import { AllocationFailedError } from './errors';
import { type Block, Slab } from './slab';

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

/** Allocates uninitialised memory, turning the engine's uncoded failure into a coded error. */
export function allocateArrayBuffer(byteLength: number): ArrayBuffer {
  try {
    return Buffer.allocUnsafeSlow(byteLength).buffer as ArrayBuffer;
  } catch (error) {
    throw new AllocationFailedError(byteLength, error);
  }
}

/** The state of one size class of one cache. Only `BufferCache` touches it. */
export class SizeClass {
  /** Freed blocks ready for reuse: a LIFO stack, so the warmest memory is reused first. */
  readonly free: Block[] = [];
  /** Slabs with dropped regions, reused before new memory is carved. */
  readonly partial: Slab[] = [];
  /** The slab new regions are carved from, if any. */
  current: Slab | undefined = undefined;
  /** `malloc` calls served by this class (hits are `mallocs - misses`). */
  mallocs = 0;
  /** `malloc` calls that found the free list empty. */
  misses = 0;
  /** `free` calls that found the free list full and dropped the block. */
  drops = 0;
  /** Blocks live or held (carved or reclaimed, and not dropped since); live = used - held. */
  used = 0;
  /** Slabs of this class the cache still references. */
  slabs = 0;
  /** The capacity of every buffer of the class, in bytes. */
  readonly capacity: number;
  readonly #blockCount: number;
  readonly #slabBytes: number;

  constructor(
    /** The cache owning the class; its slabs are tagged with it. */
    readonly cache: object,
    /** The cache's map from reusable Buffer objects to their blocks. */
    readonly registry: WeakMap<Buffer, Block>,
    /** The class index: capacity `2 ** index`. */
    readonly index: number,
    /** How many blocks `free` may hold (`floor(maxBytesPerClass / capacity)`). */
    readonly limit: number,
    slabSize: number,
  ) {
    this.capacity = 2 ** index;
    const geometry = slabGeometry(index, slabSize);
    this.#blockCount = geometry.blockCount;
    this.#slabBytes = geometry.byteLength;
  }

  /** The byte length of each of this class's slabs. */
  get slabBytes(): number {
    return this.#slabBytes;
  }

  /** Finds memory when the free list is empty; the caller counts the miss. */
  takeFresh(): Block {
    const partial = this.partial;
    if (partial.length > 0) {
      const slab = partial[partial.length - 1]!;
      const block = slab.blocks[slab.dropped.pop()!]!;
      if (slab.dropped.length === 0) {
        partial.pop();
        slab.partialIndex = -1;
      }
      slab.used++;
      this.used++;
      return block;
    }
    let slab = this.current;
    if (slab === undefined || slab.blocks.length === slab.blockCount) {
      const memory = allocateArrayBuffer(this.#slabBytes);
      slab = new Slab(this.cache, this.index, this.index, memory, this.#blockCount);
      this.current = slab;
      this.slabs++;
    }
    slab.used++;
    this.used++;
    return slab.carve(this.capacity, this.registry);
  }

  /** Lets `block` go because the free list is full. */
  drop(block: Block): void {
    this.drops++;
    this.#letGo(block);
  }

  /** Lets every held block go; returns how many bytes the free list held. */
  trim(): number {
    const count = this.free.length;
    // Newest first, so the oldest (lowest) regions of the current slab are dropped last.
    while (this.free.length > 0) this.#letGo(this.free.pop()!);
    return count * this.capacity;
  }

  /**
   * Forgets `block` (neither live nor held any more): its region becomes reusable if its slab is
   * still referenced, and the slab itself is let go once nothing in it is live or held.
   */
  #letGo(block: Block): void {
    const slab = block.slab;
    this.used--;
    slab.used--;
    if (slab.used === 0 && slab !== this.current) {
      // Nothing in the slab is live or held: forget it, and the garbage collector reclaims it
      // once no stale view references it either.
      this.#unlinkPartial(slab);
      this.slabs--;
      return;
    }
    slab.dropped.push(block.index);
    if (slab.partialIndex < 0) {
      slab.partialIndex = this.partial.length;
      this.partial.push(slab);
    }
  }

  /** Removes `slab` from the partial list, if it is there (swap-remove, O(1)). */
  #unlinkPartial(slab: Slab): void {
    const position = slab.partialIndex;
    if (position < 0) return;
    const last = this.partial.pop()!;
    if (last !== slab) {
      this.partial[position] = last;
      last.partialIndex = position;
    }
    slab.partialIndex = -1;
  }
}
