/**
 * The plain snapshot types `BufferCache.stats()` returns. The cache keeps its counters in typed
 * arrays on the hot path and builds these objects only when asked.
 */

/** Counters kept per size class and summed over all classes. Counts are since creation. */
export interface BufferCacheCounters {
  /** `malloc` calls served from a free list. */
  readonly hits: number;
  /** `malloc` calls that found the free list empty and took fresh (or dropped-and-reclaimed) memory. */
  readonly misses: number;
  /** `free` calls that found the free list at its byte cap and dropped the buffer. */
  readonly drops: number;
  /** Pooled buffers handed out and not freed yet. */
  readonly liveBuffers: number;
  /** Freed buffers waiting on free lists. */
  readonly heldBuffers: number;
  /** Bytes of those held buffers; per class never more than `options.maxBytesPerClass`. */
  readonly heldBytes: number;
  /** Slabs the cache still references. */
  readonly slabs: number;
  /** Bytes of those slabs (live, held, dropped and not yet carved regions together). */
  readonly slabBytes: number;
}

/** The counters of one power-of-two size class. */
export interface SizeClassStats extends BufferCacheCounters {
  /** The class capacity, in bytes (a power of two). */
  readonly capacity: number;
}

/**
 * A point-in-time copy of a cache's counters: the sums over all classes, the unpooled
 * allocations, and each class. Later cache activity does not change it.
 */
export interface BufferCacheStats extends BufferCacheCounters {
  /** `malloc` calls larger than `maxPooledSize`, served by plain allocations (not in `misses`). */
  readonly unpooledAllocations: number;
  /** Total bytes of those plain allocations (their capacities), in bytes. */
  readonly unpooledBytes: number;
  /** One entry per class, from capacity 1 up to `maxPooledSize`, in ascending order. */
  readonly classes: readonly SizeClassStats[];
}
