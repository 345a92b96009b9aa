/**
 * Where writable node memory comes from.
 *
 * Design after cloudwego/netpoll (`nocopy_linkbuffer.go`, `malloc`/`free` over bytedance/gopkg
 * `lang/mcache`), Apache-2.0. Re-designed for Node.js; no code was copied.
 */
import { Buffer } from 'node:buffer';
import * as mcache from '@netpoll/mcache';

// Read once: a package's exports (tsc's re-exports) are getters on an object in dictionary mode,
// a name lookup and a getter call per read.
const { free: mcacheFree, malloc: mcacheMalloc } = mcache;

/**
 * Supplies the memory of writable nodes, cross-node `next()` copies and the peek cache.
 *
 * Injected through `new LinkBuffer({ allocator })`; the default is {@link kMcacheNodeAllocator}.
 * `@netpoll/core` uses this to put outbound nodes in its own slabs.
 */
export interface NodeAllocator {
  /**
   * Returns a Buffer with **at least** `size` usable bytes (its `length` may be larger; the
   * LinkBuffer uses all of it). The contents need not be zeroed. The LinkBuffer owns the Buffer
   * until it passes exactly that object to {@link NodeAllocator.free}. `size` is a positive integer.
   */
  allocate(size: number): Buffer;
  /**
   * Takes back a Buffer returned by {@link NodeAllocator.allocate}. Called exactly once per
   * allocated Buffer, when no node, slice or recorded copy refers to it any more. `memory` and
   * `byteOffset`, when given, are `buffer.buffer` and `buffer.byteOffset`, passed because the
   * caller knows them and the getters are calls into V8's runtime.
   */
  free(buffer: Buffer, memory?: ArrayBufferLike, byteOffset?: number): void;
  /**
   * Optional, for allocators on a hot path: the `buffer` and `byteOffset` of the Buffer the last
   * `allocate()` returned, which a LinkBuffer then reads instead of the Buffer's getters (calls
   * into V8's runtime, one each per node). Set both, to exactly those values, or neither.
   */
  readonly lastMemory?: ArrayBufferLike;
  readonly lastByteOffset?: number;
}

/** The largest size served from the pool (8 MiB, netpoll's `mallocMax`); larger ones are plain. */
export const kMaxPooledSize = 8 * 1024 * 1024;

/**
 * Smallest power of two >= size, for 1 <= size <= 2^30 (callers pass at most `kMaxPooledSize`).
 * A shift, not `2 **`, which V8 compiles to a floating-point power on this path.
 */
function nextPowerOfTwo(size: number): number {
  return size <= 1 ? 1 : 1 << (32 - Math.clz32(size - 1));
}

/**
 * The default allocator: power-of-two classes from `@netpoll/mcache` up to 8 MiB (the whole class
 * is usable), and a plain uninitialised `Buffer.allocUnsafeSlow` above that, which `free` leaves to
 * the garbage collector (netpoll never pools more than 8 MiB).
 */
export const kMcacheNodeAllocator: NodeAllocator = Object.freeze({
  allocate(size: number): Buffer {
    if (size > kMaxPooledSize) return Buffer.allocUnsafeSlow(size);
    return mcacheMalloc(nextPowerOfTwo(size));
  },
  free(buffer: Buffer): void {
    if (buffer.length > kMaxPooledSize) return;
    mcacheFree(buffer);
  },
});
