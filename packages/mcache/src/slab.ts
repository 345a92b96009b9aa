/**
 * Slabs and blocks: the memory records behind every Buffer a `BufferCache` hands out.
 *
 * ```
 *   ArrayBuffer (one per slab) ──[kSlab]──▶ Slab { cache, classIndex, shift, blocks[] }
 *   ├── block 0: [0,       c)  ◀── Block { view, index 0, live }
 *   ├── block 1: [c,      2c)  ◀── Block { view, index 1, live }
 *   └── ...                        (c = 2 ** classIndex; blocks are carved lazily, in order)
 * ```
 *
 * The slab record hangs off its ArrayBuffer under a module-private symbol, so `free(buffer)` finds
 * it with one property load from `buffer.buffer` (measured faster than a WeakMap lookup), and a
 * Buffer over any other ArrayBuffer is recognised as foreign. Nobody outside this package can
 * forge the tag, because the symbol is never exported from the package.
 */
import { Buffer } from 'node:buffer';

/** The module-private key under which a slab's record hangs off its ArrayBuffer. */
export const kSlab: unique symbol = Symbol('netpoll.mcache.slab');

/** An ArrayBuffer that may carry a slab record. */
export type TaggedArrayBuffer = ArrayBufferLike & { [kSlab]?: Slab };

/** The class index unpooled (larger than `maxPooledSize`) allocations use. */
export const kUnpooledClass = -1;

/**
 * One class-sized region of a slab. The record lives as long as its slab; `view` is the Buffer
 * that spans the whole region and is what the free list holds.
 */
export class Block {
  /** The Buffer currently handed out for this region, or undefined when it is not live. */
  live: Buffer | undefined = undefined;
  /** The last odd-size view handed out for this region, kept for reuse (not in debug mode). */
  sized: Buffer | undefined = undefined;
  /** Whether `sized` is in the cache's registry. */
  sizedRegistered = false;
  /** Debug mode: the stack of the last `free` of this region, for double-free reports. */
  freedAt: string | undefined = undefined;

  constructor(
    /** The slab this region belongs to. */
    readonly slab: Slab,
    /** The region's position in the slab. */
    readonly index: number,
    /** The region's byte offset in the slab's ArrayBuffer (`index << slab.shift`). */
    readonly offset: number,
    /** A Buffer over the whole region: `capacity` bytes from the region's start. */
    readonly view: Buffer,
  ) {}
}

/**
 * One ArrayBuffer carved into `blockCount` regions of one size class, or (class
 * `kUnpooledClass`) holding one unpooled allocation.
 */
export class Slab {
  /** Blocks carved so far, by index; regions past `blocks.length` are not carved yet. */
  readonly blocks: Block[] = [];
  /** Blocks that are live or on the class's free list; at 0 the slab can be let go. */
  used = 0;
  /** Indices of blocks dropped because the free list was full; reused before new carving. */
  readonly dropped: number[] = [];
  /** This slab's position in its class's list of slabs with dropped blocks, or -1. */
  partialIndex = -1;

  constructor(
    /** The cache that owns the slab; a buffer from another cache is foreign to this one. */
    readonly cache: object,
    /** The size class, or `kUnpooledClass`. */
    readonly classIndex: number,
    /** log2 of the region size: a view at byte offset `o` lies in block `o >>> shift`. */
    readonly shift: number,
    /** The memory. */
    readonly arrayBuffer: ArrayBuffer,
    /** How many regions the slab is carved into. */
    readonly blockCount: number,
  ) {
    (arrayBuffer as TaggedArrayBuffer)[kSlab] = this;
  }

  /**
   * Carves the next region of `byteLength` bytes and records its view in `registry`; the caller
   * checked `blocks.length < blockCount`.
   */
  carve(byteLength: number, registry: WeakMap<Buffer, Block>): Block {
    const index = this.blocks.length;
    const offset = index << this.shift;
    const view = Buffer.from(this.arrayBuffer, offset, byteLength);
    const block = new Block(this, index, offset, view);
    this.blocks.push(block);
    registry.set(view, block);
    return block;
  }
}

/**
 * Returns the slab record of the memory behind `value`, or undefined when `value` is not a
 * Uint8Array (a Buffer) over a tagged ArrayBuffer. Never throws, whatever `value` is.
 */
export function slabOf(value: unknown): Slab | undefined {
  if (!(value instanceof Uint8Array)) return undefined;
  return (value.buffer as TaggedArrayBuffer)[kSlab];
}
