/**
 * The plain snapshot types `BufferCache.stats()` returns. The cache keeps its counters in typed
 * arrays on the hot path and builds these objects only when asked.
 */

/** Counters of one power-of-two size class. All counts are since the cache was created. */
export interface SizeClassStats {
  /** The class capacity, in bytes (a power of two). */
  readonly capacity: number;
  /** `malloc` calls served from the class's free list. */
  readonly hits: number;
  /** `malloc` calls that found the free list empty and took fresh (or dropped-and-reclaimed) memory. */
  readonly misses: number;
  /** `free` calls that found the free list at its byte cap and dropped the buffer. */
  readonly drops: number;
  /** Buffers of this class handed out and not freed yet. */
  readonly liveBuffers: number;
  /** Freed buffers waiting on the free list. */
  readonly heldBuffers: number;
  /** `heldBuffers * capacity`, in bytes; never more than `options.maxBytesPerClass`. */
  readonly heldBytes: number;
  /** Slabs of this class the cache still references. */
  readonly slabs: number;
  /** Bytes of those slabs (live, held, dropped and not yet carved regions together). */
  readonly slabBytes: number;
}

/** A point-in-time copy of a cache's counters; later cache activity does not change it. */
export interface BufferCacheStats {
  /** Sum of `hits` over all classes. */
  readonly hits: number;
  /** Sum of `misses` over all classes (unpooled allocations are not counted here). */
  readonly misses: number;
  /** Sum of `drops` over all classes. */
  readonly drops: number;
  /** Sum of `liveBuffers` over all classes (pooled allocations only). */
  readonly liveBuffers: number;
  /** Sum of `heldBuffers` over all classes. */
  readonly heldBuffers: number;
  /** Sum of `heldBytes` over all classes, in bytes. */
  readonly heldBytes: number;
  /** Sum of `slabs` over all classes. */
  readonly slabs: number;
  /** Sum of `slabBytes` over all classes, in bytes. */
  readonly slabBytes: number;
  /** `malloc` calls larger than `maxPooledSize`, served by plain allocations. */
  readonly unpooledAllocations: number;
  /** Total bytes of those plain allocations (their capacities), in bytes. */
  readonly unpooledBytes: number;
  /** One entry per class, from capacity 1 up to `maxPooledSize`, in ascending order. */
  readonly classes: readonly SizeClassStats[];
}
