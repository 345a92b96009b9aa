/**
 * BufferCache: a power-of-two size-class cache of Buffers carved from shared slabs.
 *
 * Design after bytedance/gopkg `lang/mcache` (Apache-2.0): `Malloc(size, capacity)` rounds the
 * capacity up to a power of two and serves it from that class's pool; `Free` returns it. This is a
 * re-design for Node, not a translation:
 * - Go pools raw pointers in `sync.Pool`s the GC may empty. Here each class keeps a bounded free
 *   list of the Buffer *objects* themselves, so `malloc(n)` with `n` equal to the class capacity
 *   returns an existing object: no ArrayBuffer, no Buffer, no garbage.
 * - New memory is carved from slabs (one ArrayBuffer shared by up to 256 buffers of a class), so
 *   small allocations do not each create an ArrayBuffer.
 * - Go ignores a `Free` it cannot place. Here a foreign buffer or a second free throws a coded
 *   error, because silently accepting it would hand the same memory to two owners later.
 *
 * ```
 *   malloc(size, capacity) ─▶ class c = ceil(log2(max(size, capacity)))
 *       free[c].pop() ── hit ──▶ block (view of 2^c bytes)
 *           └─ miss ─▶ dropped region of a partial slab ─▶ next region of current[c] ─▶ new slab
 *   free(buffer) ─▶ buffer.buffer[kSlab] ─▶ slab.blocks[byteOffset >>> shift] ─▶ free[c].push
 *                                                      (or drop when free[c] is at its byte cap)
 * ```
 */
import { constants as bufferConstants } from 'node:buffer';
import {
  AllocationFailedError,
  DoubleFreeError,
  ForeignBufferError,
  InvalidArgumentError,
  OutOfRangeError,
  tooManyMallocArguments,
} from './errors';
import {
  type BufferCacheOptions,
  type ResolvedBufferCacheOptions,
  resolveBufferCacheOptions,
} from './options';
import { POISON_BYTE } from './poison';
import { classIndexOf, slabGeometry } from './size-class';
import { type Block, kSlab, kUnpooledClass, Slab, type TaggedArrayBuffer } from './slab';
import type { BufferCacheStats, SizeClassStats } from './stats';

/** The largest length a Buffer may have on this Node version, in bytes. */
const kMaxBufferLength = bufferConstants.MAX_LENGTH;

/**
 * A cache of Buffers in power-of-two size classes from 1 byte up to `options.maxPooledSize`.
 *
 * Ownership: a Buffer returned by `malloc` belongs to the caller until it passes the very same
 * object to `free`; after that the caller must not touch it (nor any view made from it), because
 * the memory is handed to the next `malloc` of that class, whose owner will see and overwrite it.
 * Memory is never zeroed. Not safe to share across worker threads (it is ordinary JS state; each
 * thread should use its own cache).
 */
export class BufferCache {
  /** The resolved, frozen options this cache was built with. */
  readonly options: ResolvedBufferCacheOptions;

  readonly #debug: boolean;
  readonly #maxPooledSize: number;
  /** Per class: freed blocks ready for reuse (a LIFO stack, so warm memory is reused first). */
  readonly #free: Block[][] = [];
  /** Per class: how many blocks `#free[c]` may hold (`floor(maxBytesPerClass / 2^c)`). */
  readonly #freeLimit: number[] = [];
  /** Per class: the slab new regions are carved from, if any. */
  readonly #current: (Slab | undefined)[] = [];
  /** Per class: slabs with dropped regions, reused before carving new memory. */
  readonly #partial: Slab[][] = [];
  /** Per class: how many buffers one slab holds, and its byte length. */
  readonly #blockCount: number[] = [];
  readonly #slabBytes: number[] = [];

  // Counters, per class, kept in typed arrays so the hot path only bumps numbers.
  readonly #hits: Float64Array;
  readonly #misses: Float64Array;
  readonly #drops: Float64Array;
  readonly #live: Float64Array;
  readonly #slabCount: Float64Array;
  #unpooledAllocations = 0;
  #unpooledBytes = 0;

  /**
   * Creates an empty cache; no memory is reserved until the first `malloc`.
   *
   * @param options See `BufferCacheOptions`; validated once, here.
   * @throws `ERR_NETPOLL_INVALID_ARG` / `ERR_NETPOLL_OUT_OF_RANGE` for invalid options.
   */
  constructor(options?: BufferCacheOptions) {
    this.options = resolveBufferCacheOptions(options);
    this.#debug = this.options.debug;
    this.#maxPooledSize = this.options.maxPooledSize;
    const classCount = classIndexOf(this.#maxPooledSize) + 1;
    for (let index = 0; index < classCount; index++) {
      this.#free.push([]);
      this.#freeLimit.push(Math.floor(this.options.maxBytesPerClass / 2 ** index));
      this.#current.push(undefined);
      this.#partial.push([]);
      const geometry = slabGeometry(index, this.options.slabSize);
      this.#blockCount.push(geometry.blockCount);
      this.#slabBytes.push(geometry.byteLength);
    }
    this.#hits = new Float64Array(classCount);
    this.#misses = new Float64Array(classCount);
    this.#drops = new Float64Array(classCount);
    this.#live = new Float64Array(classCount);
    this.#slabCount = new Float64Array(classCount);
  }

  // ---- allocation ----------------------------------------------------------------------------

  /**
   * Returns a Buffer of length `size` whose capacity (see `capacityOf`) is the smallest power of
   * two at least `max(size, capacity)`; `malloc(0)` has capacity 1. Above `maxPooledSize` it is a
   * plain allocation of exactly `max(size, capacity)` bytes, never pooled.
   *
   * The contents are NOT zeroed: reused memory holds whatever its previous owner wrote.
   * The caller owns the result until it passes the same object to `free`.
   *
   * @param size Length of the returned Buffer, in bytes; an integer from 0 to
   *   `buffer.constants.MAX_LENGTH`.
   * @param capacity Optional minimum capacity, in bytes; same range as `size`. Smaller than
   *   `size` is allowed and means `size`.
   * @throws `ERR_NETPOLL_INVALID_ARG` when more than two arguments are passed or an argument is
   *   not a number; `ERR_NETPOLL_OUT_OF_RANGE` when it is negative, not an integer, NaN or too
   *   large; `ERR_NETPOLL_MCACHE_ALLOCATION_FAILED` when the engine cannot allocate the memory.
   */
  malloc(size: number, capacity?: number): Buffer {
    // Reading `arguments.length` does not materialise the arguments object in V8's optimiser;
    // it is how gopkg's "more than one extra argument panics" rule is kept without a rest array.
    // biome-ignore lint/complexity/noArguments: see the comment above.
    if (arguments.length > 2) throw tooManyMallocArguments(arguments.length);
    // `x >>> 0 === x` accepts exactly the integers 0 .. 2^32-1 in one comparison; everything
    // else (NaN, negatives, fractions, 2^32) takes the slow checking path. The typeof test comes
    // first so a bigint, symbol or object never reaches `>>>` (which would throw or run valueOf).
    let want = typeof size === 'number' && size >>> 0 === size ? size : checkSize('size', size);
    if (capacity !== undefined) {
      const minimum =
        typeof capacity === 'number' && capacity >>> 0 === capacity
          ? capacity
          : checkSize('capacity', capacity);
      if (minimum > want) want = minimum;
    }
    if (want > this.#maxPooledSize) return this.#mallocUnpooled(size, want);

    const index = want <= 1 ? 0 : 32 - Math.clz32(want - 1);
    let block = this.#free[index]!.pop();
    if (block === undefined) {
      block = this.#takeFresh(index);
      this.#misses[index]!++;
    } else {
      this.#hits[index]!++;
    }
    this.#live[index]!++;
    const view = block.view;
    const result =
      size === view.length && !this.#debug ? view : Buffer.from(view.buffer, view.byteOffset, size);
    block.live = result;
    return result;
  }

  /**
   * Returns `buffer`, which must be the very object `malloc` of this cache returned and not freed
   * since, to the cache. Afterwards the caller must not use it or any view made from it.
   *
   * An unpooled buffer (capacity above `maxPooledSize`) is accepted and not kept: the garbage
   * collector reclaims it once unreferenced. A pooled buffer goes on its class's free list, or is
   * dropped for the garbage collector when that list holds `maxBytesPerClass` bytes already.
   * In debug mode the freed memory is filled with `POISON_BYTE`.
   *
   * @throws `ERR_NETPOLL_MCACHE_FOREIGN_BUFFER` when `buffer` is not a Buffer from this cache (or
   *   is a view that starts elsewhere than its allocation); `ERR_NETPOLL_MCACHE_DOUBLE_FREE` when
   *   its allocation is not live (freed already). A stale handle whose memory was handed out
   *   again is detected only in debug mode; without it, freeing one frees the new owner's memory.
   */
  free(buffer: Buffer): void {
    const slab = (buffer?.buffer as TaggedArrayBuffer | undefined)?.[kSlab];
    if (slab === undefined || slab.cache !== this) throw foreign(buffer, slab, this);
    const block = slab.blocks[buffer.byteOffset >>> slab.shift];
    if (block === undefined || block.live !== buffer) throw notLive(buffer, slab, block);
    block.live = undefined;
    if (this.#debug) block.view.fill(POISON_BYTE);
    const index = slab.classIndex;
    if (index === kUnpooledClass) return;
    this.#live[index]!--;
    const list = this.#free[index]!;
    if (list.length < this.#freeLimit[index]!) list.push(block);
    else this.#drop(block);
  }

  /**
   * Returns the capacity, in bytes, of an allocation this cache handed out: the class size for a
   * pooled buffer, `max(size, capacity)` for an unpooled one. It is the number of bytes of
   * `buffer.buffer`, starting at `buffer.byteOffset`, that belong to the allocation: while it is
   * live, the owner may widen its view with
   * `Buffer.from(buffer.buffer, buffer.byteOffset, capacityOf(buffer))`, but must still pass the
   * original object to `free`. Liveness is not checked.
   *
   * @throws `ERR_NETPOLL_MCACHE_FOREIGN_BUFFER` when `buffer` is not a Buffer from this cache or
   *   does not start where its allocation starts.
   */
  capacityOf(buffer: Buffer): number {
    const slab = (buffer?.buffer as TaggedArrayBuffer | undefined)?.[kSlab];
    if (slab === undefined || slab.cache !== this) throw foreign(buffer, slab, this);
    const block = slab.blocks[buffer.byteOffset >>> slab.shift];
    if (block === undefined || block.view.byteOffset !== buffer.byteOffset) {
      throw foreign(buffer, slab, this);
    }
    return block.view.length;
  }

  // ---- refill and trimming -------------------------------------------------------------------

  /** Finds memory for class `index` when its free list is empty (the caller counts a miss). */
  #takeFresh(index: number): Block {
    const partial = this.#partial[index]!;
    if (partial.length > 0) {
      const slab = partial[partial.length - 1]!;
      const block = slab.blocks[slab.dropped.pop()!]!;
      if (slab.dropped.length === 0) {
        partial.pop();
        slab.partialIndex = -1;
      }
      slab.used++;
      return block;
    }
    let slab = this.#current[index];
    if (slab === undefined || slab.blocks.length === slab.blockCount) {
      slab = new Slab(
        this,
        index,
        index,
        allocate(this.#slabBytes[index]!),
        this.#blockCount[index]!,
      );
      this.#current[index] = slab;
      this.#slabCount[index]!++;
    }
    slab.used++;
    return slab.carve(2 ** index);
  }

  /** Lets `block` go because its class's free list is full. */
  #drop(block: Block): void {
    const slab = block.slab;
    const index = slab.classIndex;
    this.#drops[index]!++;
    slab.used--;
    if (slab.used === 0 && slab !== this.#current[index]) {
      // Nothing in the slab is live or held: forget it, and the garbage collector reclaims it
      // once no stale view references it either.
      this.#unlinkPartial(slab);
      this.#slabCount[index]!--;
      return;
    }
    slab.dropped.push(block.index);
    if (slab.partialIndex < 0) {
      const partial = this.#partial[index]!;
      slab.partialIndex = partial.length;
      partial.push(slab);
    }
  }

  /** Removes `slab` from its class's partial list, if it is there (swap-remove, O(1)). */
  #unlinkPartial(slab: Slab): void {
    const position = slab.partialIndex;
    if (position < 0) return;
    const partial = this.#partial[slab.classIndex]!;
    const last = partial.pop()!;
    if (last !== slab) {
      partial[position] = last;
      last.partialIndex = position;
    }
    slab.partialIndex = -1;
  }

  /** Serves a request above `maxPooledSize` with its own ArrayBuffer of `capacity` bytes. */
  #mallocUnpooled(size: number, capacity: number): Buffer {
    const slab = new Slab(this, kUnpooledClass, 31, allocate(capacity), 1);
    const block = slab.carve(capacity);
    this.#unpooledAllocations++;
    this.#unpooledBytes += capacity;
    const result =
      size === capacity && !this.#debug ? block.view : Buffer.from(slab.arrayBuffer, 0, size);
    block.live = result;
    return result;
  }

  // ---- statistics ----------------------------------------------------------------------------

  /** Returns a plain snapshot of the cache's counters; see `BufferCacheStats`. */
  stats(): BufferCacheStats {
    const classes: SizeClassStats[] = [];
    const totals = { hits: 0, misses: 0, drops: 0, liveBuffers: 0, heldBuffers: 0, heldBytes: 0 };
    let slabs = 0;
    let slabBytes = 0;
    for (let index = 0; index < this.#free.length; index++) {
      const capacity = 2 ** index;
      const heldBuffers = this.#free[index]!.length;
      const entry: SizeClassStats = {
        capacity,
        hits: this.#hits[index]!,
        misses: this.#misses[index]!,
        drops: this.#drops[index]!,
        liveBuffers: this.#live[index]!,
        heldBuffers,
        heldBytes: heldBuffers * capacity,
        slabs: this.#slabCount[index]!,
        slabBytes: this.#slabCount[index]! * this.#slabBytes[index]!,
      };
      classes.push(Object.freeze(entry));
      totals.hits += entry.hits;
      totals.misses += entry.misses;
      totals.drops += entry.drops;
      totals.liveBuffers += entry.liveBuffers;
      totals.heldBuffers += entry.heldBuffers;
      totals.heldBytes += entry.heldBytes;
      slabs += entry.slabs;
      slabBytes += entry.slabBytes;
    }
    return Object.freeze({
      ...totals,
      slabs,
      slabBytes,
      unpooledAllocations: this.#unpooledAllocations,
      unpooledBytes: this.#unpooledBytes,
      classes: Object.freeze(classes),
    });
  }
}

// ---- helpers (cold paths) ----------------------------------------------------------------------

/** Allocates uninitialised memory, turning the engine's uncoded failure into a coded error. */
function allocate(byteLength: number): ArrayBuffer {
  try {
    return Buffer.allocUnsafeSlow(byteLength).buffer as ArrayBuffer;
  } catch (error) {
    throw new AllocationFailedError(byteLength, error);
  }
}

/** Validates a size that failed the fast `>>> 0` check; returns it when it is still valid. */
function checkSize(path: string, value: unknown): number {
  if (typeof value !== 'number') throw new InvalidArgumentError(path, 'a number', value);
  if (!Number.isInteger(value) || value < 0 || value > kMaxBufferLength) {
    throw new OutOfRangeError(path, `an integer from 0 to ${kMaxBufferLength}`, value);
  }
  return value;
}

/** Builds the error for a buffer whose memory has no slab of this cache. */
function foreign(buffer: unknown, slab: Slab | undefined, cache: BufferCache): Error {
  if (!(buffer instanceof Uint8Array)) {
    return new InvalidArgumentError('buffer', 'a Buffer', buffer);
  }
  if (slab !== undefined && slab.cache !== cache) {
    return new ForeignBufferError('it belongs to a different BufferCache');
  }
  if (slab === undefined) return new ForeignBufferError('its memory is not a slab of this cache');
  return new ForeignBufferError(
    `byte offset ${buffer.byteOffset} is not the start of an allocation of ${2 ** slab.shift} bytes`,
  );
}

/** Builds the error for a buffer of this cache that is not the live allocation of its block. */
function notLive(buffer: Buffer, slab: Slab, block: Block | undefined): Error {
  if (block === undefined || block.view.byteOffset !== buffer.byteOffset) {
    return foreign(buffer, slab, slab.cache as BufferCache);
  }
  if (block.live === undefined) return new DoubleFreeError('it was freed already');
  return new DoubleFreeError(
    'its memory belongs to a newer allocation (this handle was freed already), or it is a copy ' +
      'of the Buffer malloc returned rather than that object',
  );
}
