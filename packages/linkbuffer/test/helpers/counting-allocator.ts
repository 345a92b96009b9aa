import type { NodeAllocator } from '../../src/node-allocator';

/**
 * A NodeAllocator for tests: plain Buffers of exactly the requested size, every allocation
 * tracked, and a thrown Error on a foreign or double free (so tests see misuse at once).
 */
export class CountingAllocator implements NodeAllocator {
  readonly live = new Set<Buffer>();
  readonly freed = new Set<Buffer>();
  allocations = 0;
  frees = 0;
  /** Sizes requested, in call order. */
  readonly requests: number[] = [];

  allocate(size: number): Buffer {
    const buffer = Buffer.alloc(size, 0xaa);
    this.allocations++;
    this.requests.push(size);
    this.live.add(buffer);
    return buffer;
  }

  free(buffer: Buffer, memory?: ArrayBufferLike, byteOffset?: number): void {
    if (memory !== undefined && memory !== buffer.buffer) throw new Error('free with other memory');
    if (byteOffset !== undefined && byteOffset !== buffer.byteOffset) {
      throw new Error('free with another offset');
    }
    if (this.freed.has(buffer)) throw new Error('double free');
    if (!this.live.delete(buffer)) throw new Error('foreign free');
    this.freed.add(buffer);
    this.frees++;
  }
}

/** A RegionOwner that records every release. */
export class RecordingOwner {
  readonly released: number[] = [];

  releaseRegion(token: number): void {
    this.released.push(token);
  }
}
