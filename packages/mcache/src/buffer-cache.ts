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
 *   free(buffer) ─▶ registry.get(buffer)              (reused Buffer objects: one lookup)
 *                   ?? buffer.buffer[kSlab].blocks[byteOffset >>> shift]   (fresh odd views)
 *                ─▶ check block.live === buffer ─▶ free[c].push (or drop at the class's byte cap)
 * ```
 */
import { Buffer, constants as bufferConstants } from 'node:buffer';
import {
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
import { allocateArrayBuffer, classIndexOf, SizeClass } from './size-class';
import { type Block, kUnpooledClass, Slab, slabOf } from './slab';
import type { BufferCacheCounters, BufferCacheStats, SizeClassStats } from './stats';

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
  /** Per class index: the class's free list, slabs and counters. */
  readonly #classes: SizeClass[] = [];
  /** Every block's own full-capacity view and every cached odd-size view, to its block. */
  readonly #registry = new WeakMap<Buffer, Block>();
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
    const { debug, maxPooledSize, maxBytesPerClass, slabSize } = this.options;
    this.#debug = debug;
    this.#maxPooledSize = maxPooledSize;
    for (let index = 0; index <= classIndexOf(maxPooledSize); index++) {
      const limit = Math.floor(maxBytesPerClass / 2 ** index);
      this.#classes.push(new SizeClass(this, this.#registry, index, limit, slabSize));
    }
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

    const sizeClass = this.#classes[want <= 1 ? 0 : 32 - Math.clz32(want - 1)]!;
    let block = sizeClass.free.pop();
    if (block === undefined) {
      block = sizeClass.takeFresh();
      sizeClass.misses++;
    }
    sizeClass.mallocs++;
    return this.#handOut(block, size);
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
   * @throws `ERR_NETPOLL_INVALID_ARG` when `buffer` is not a Buffer;
   *   `ERR_NETPOLL_MCACHE_FOREIGN_BUFFER` when it is not from this cache (or is a view that starts
   *   elsewhere than its allocation); `ERR_NETPOLL_MCACHE_DOUBLE_FREE` when its allocation is not
   *   live (freed already). A stale handle whose memory was handed out again is detected only in
   *   debug mode; without it, freeing one frees the new owner's memory.
   */
  free(buffer: Buffer): void {
    // The registry answers for every Buffer object the cache reuses (one hash lookup, measured
    // cheaper than reading `buffer.buffer`, which Node 20's V8 does not inline); other views
    // (odd sizes, debug mode) are found through their ArrayBuffer's slab tag.
    const block = this.#registry.get(buffer) ?? this.#locate(buffer);
    if (block.live !== buffer) throw notLive(buffer, block);
    block.live = undefined;
    if (this.#debug) {
      block.view.fill(POISON_BYTE);
      block.freedAt = callSite(this.free);
    }
    const index = block.slab.classIndex;
    if (index === kUnpooledClass) return;
    const sizeClass = this.#classes[index]!;
    if (sizeClass.free.length < sizeClass.limit) sizeClass.free.push(block);
    else sizeClass.drop(block);
  }

  /**
   * Returns the capacity, in bytes, of an allocation this cache handed out: the class size for a
   * pooled buffer, `max(size, capacity)` for an unpooled one. It is the number of bytes of
   * `buffer.buffer`, starting at `buffer.byteOffset`, that belong to the allocation: while it is
   * live, the owner may widen its view with
   * `Buffer.from(buffer.buffer, buffer.byteOffset, capacityOf(buffer))`, but must still pass the
   * original object to `free`. Any view that starts where the allocation starts is accepted.
   * Liveness is not checked.
   *
   * @throws `ERR_NETPOLL_INVALID_ARG` when `buffer` is not a Buffer;
   *   `ERR_NETPOLL_MCACHE_FOREIGN_BUFFER` when it is not from this cache or does not start where
   *   its allocation starts.
   */
  capacityOf(buffer: Buffer): number {
    return (this.#registry.get(buffer) ?? this.#locate(buffer)).view.length;
  }

  /**
   * Drops every held (freed, cached) buffer of every class, so the garbage collector can reclaim
   * slabs that no live buffer pins; for example after a traffic spike. Live buffers are not
   * affected, and later `malloc`s refill the cache. Returns the bytes the free lists held.
   */
  trim(): number {
    let bytes = 0;
    for (const sizeClass of this.#classes) bytes += sizeClass.trim();
    return bytes;
  }

  // ---- hand-out, lookup and unpooled allocations ---------------------------------------------

  /**
   * Marks `block` live and returns the Buffer for it: the block's own view when `size` is its
   * capacity, else a view of `size` bytes, reused from the block's last odd-size hand-out when
   * the length matches. Debug mode always makes a fresh view, so no stale handle can equal it.
   * (A replaced odd-size view may stay in the registry until collected; its block's `live`
   * check still rejects it, because it is never handed out again.)
   */
  #handOut(block: Block, size: number): Buffer {
    let result: Buffer;
    if (this.#debug) {
      result = Buffer.from(block.slab.arrayBuffer, block.offset, size);
    } else if (size === block.view.length) {
      result = block.view;
    } else {
      const sized = block.sized;
      if (sized !== undefined && sized.length === size) {
        result = sized;
        // A view handed out twice is likely to recur: register it so `free` finds it with one
        // lookup. Registering every new view instead would cost a WeakMap insertion (~140 ns
        // measured) per odd-size malloc when sizes vary.
        if (!block.sizedRegistered) {
          this.#registry.set(sized, block);
          block.sizedRegistered = true;
        }
      } else {
        result = Buffer.from(block.slab.arrayBuffer, block.offset, size);
        block.sized = result;
        block.sizedRegistered = false;
      }
    }
    block.live = result;
    return result;
  }

  /**
   * Finds the block of a view the registry does not know, through its ArrayBuffer's slab tag.
   * @throws the `free`/`capacityOf` argument errors when there is no such block.
   */
  #locate(buffer: unknown): Block {
    const slab = slabOf(buffer);
    if (slab === undefined || slab.cache !== this) throw foreign(buffer, slab, this);
    const offset = (buffer as Buffer).byteOffset;
    const block = slab.blocks[offset >>> slab.shift];
    if (block === undefined || block.offset !== offset) throw foreign(buffer, slab, this);
    return block;
  }

  /** Serves a request above `maxPooledSize` with its own ArrayBuffer of `capacity` bytes. */
  #mallocUnpooled(size: number, capacity: number): Buffer {
    const slab = new Slab(this, kUnpooledClass, 31, allocateArrayBuffer(capacity), 1);
    const block = slab.carve(capacity, this.#registry);
    this.#unpooledAllocations++;
    this.#unpooledBytes += capacity;
    return this.#handOut(block, size);
  }

  /** Returns a plain snapshot of the cache's counters; see `BufferCacheStats`. */
  stats(): BufferCacheStats {
    const classes: SizeClassStats[] = [];
    const totals: Record<keyof BufferCacheCounters, number> = {
      hits: 0,
      misses: 0,
      drops: 0,
      liveBuffers: 0,
      heldBuffers: 0,
      heldBytes: 0,
      slabs: 0,
      slabBytes: 0,
    };
    for (const sizeClass of this.#classes) {
      const { capacity, mallocs, misses, used, slabs } = sizeClass;
      const heldBuffers = sizeClass.free.length;
      const entry: SizeClassStats = {
        capacity,
        hits: mallocs - misses,
        misses,
        drops: sizeClass.drops,
        liveBuffers: used - heldBuffers,
        heldBuffers,
        heldBytes: heldBuffers * capacity,
        slabs,
        slabBytes: slabs * sizeClass.slabBytes,
      };
      classes.push(Object.freeze(entry));
      for (const key of kCounterKeys) totals[key] += entry[key];
    }
    return Object.freeze({
      ...totals,
      unpooledAllocations: this.#unpooledAllocations,
      unpooledBytes: this.#unpooledBytes,
      classes: Object.freeze(classes),
    });
  }
}

/** The per-class counters summed into the totals of `stats()`. */
const kCounterKeys = [
  'hits',
  'misses',
  'drops',
  'liveBuffers',
  'heldBuffers',
  'heldBytes',
  'slabs',
  'slabBytes',
] as const satisfies readonly (keyof BufferCacheCounters)[];

// ---- helpers (cold paths) ----------------------------------------------------------------------

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
  const capacity =
    slab.classIndex === kUnpooledClass ? slab.arrayBuffer.byteLength : 2 ** slab.shift;
  return new ForeignBufferError(
    `byte offset ${buffer.byteOffset} is not the start of an allocation of ${capacity} bytes`,
  );
}

/** Builds the error for a buffer of this cache that is not the live allocation of its block. */
function notLive(buffer: Buffer, block: Block): Error {
  // Debug mode remembers where the region was last freed, which is where the bug usually is.
  const where = block.freedAt === undefined ? '' : `; it was last freed at\n${block.freedAt}`;
  if (block.live === undefined) return new DoubleFreeError(`it was freed already${where}`);
  if (block.view === buffer || block.sized === buffer) {
    // Non-debug mode reuses these objects, so a stale handle and the new owner's are the same
    // object and never reach this point; what does is a reused object freed out of turn.
    return new DoubleFreeError(
      `it was freed already, and its memory has been handed out again${where}`,
    );
  }
  return new DoubleFreeError(
    'its memory belongs to a newer allocation (this handle was freed already), or it is a copy ' +
      `of the Buffer malloc returned rather than that object${where}`,
  );
}

/** The stack of the caller of `below`, without the first "Error" line (debug mode only). */
function callSite(below: (...args: never[]) => unknown): string {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, below);
  const stack = holder.stack ?? '';
  return stack.slice(stack.indexOf('\n') + 1);
}
