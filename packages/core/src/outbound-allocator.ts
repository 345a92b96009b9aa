/**
 * Node memory for connection writers, carved from outbound slabs registered once with the
 * reactor, so a flush can describe its bytes as `(slab, offset, length)` and native can `writev`
 * them without a JS→native call per message.
 *
 * Small requests are bump-allocated from shared slabs (8-byte aligned) with a live count per slab;
 * a slab whose count drops to zero is reused from its start. Requests above a quarter of a slab get
 * a dedicated ArrayBuffer that is registered on allocation and unregistered on free (one call each;
 * large writes only).
 *
 * A freed Buffer of a shared slab is kept (one per KiB of slab) and handed out again when the bump
 * pointer comes back to the same offset for the same size — the usual case once a reused slab
 * repeats the same node sizes — so steady writing creates no Buffer objects and the young
 * generation sees less garbage (which otherwise makes V8 grow it, and the process RSS with it).
 */
import { Buffer } from 'node:buffer';
import type { NodeAllocator } from '@netpoll/linkbuffer';

/** The part of the reactor this allocator needs (slab registration, counted as JS→native calls). */
export interface SlabRegistry {
  registerOutbound(buffer: ArrayBuffer): number;
  unregisterOutbound(index: number): void;
}

interface OutboundSlab {
  readonly buffer: ArrayBuffer;
  readonly index: number;
  readonly dedicated: boolean;
  offset: number;
  live: number;
  /** Freed Buffers by `byteOffset >>> kSpareShift` (shared slabs only; empty for dedicated). */
  readonly spare: Array<Buffer | null>;
  /** The `byteOffset` of each spare Buffer (the getter is a call into V8's runtime). */
  readonly spareOffset: Int32Array;
}

/** One spare Buffer per 1 KiB of slab: distinct for every allocation of at least 1 KiB. */
const kSpareShift = 10;
const kNoSpare: Array<Buffer | null> = [];
const kNoSpareOffset = new Int32Array(0);

export class OutboundAllocator implements NodeAllocator {
  /** Where the Buffer the last `allocate()` returned lives (NodeAllocator: no getter per node). */
  lastMemory: ArrayBuffer | undefined = undefined;
  lastByteOffset = 0;
  readonly #registry: SlabRegistry;
  readonly #slabSize: number;
  readonly #bySlabMemory = new Map<ArrayBufferLike, OutboundSlab>();
  readonly #shared: OutboundSlab[] = [];
  #current: OutboundSlab | null = null;

  constructor(registry: SlabRegistry, slabSize: number) {
    this.#registry = registry;
    this.#slabSize = slabSize;
  }

  /** Shared slabs in use (dedicated ones excluded). */
  get slabCount(): number {
    return this.#shared.length;
  }

  allocate(size: number): Buffer {
    if (size > this.#slabSize >>> 2) return this.#dedicated(size);
    const aligned = (size + 7) & ~7;
    let slab = this.#current;
    if (slab === null || slab.offset + aligned > this.#slabSize) slab = this.#nextSlab();
    const offset = slab.offset;
    const slot = offset >>> kSpareShift;
    const spare = slab.spare[slot]!;
    let buffer: Buffer;
    if (spare !== null && slab.spareOffset[slot] === offset && spare.length === size) {
      slab.spare[slot] = null;
      buffer = spare;
    } else {
      buffer = Buffer.from(slab.buffer, offset, size);
    }
    slab.offset = offset + aligned;
    slab.live++;
    this.lastMemory = slab.buffer;
    this.lastByteOffset = offset;
    return buffer;
  }

  free(
    buffer: Buffer,
    memory: ArrayBufferLike = buffer.buffer,
    byteOffset: number = buffer.byteOffset,
  ): void {
    const slab = this.#bySlabMemory.get(memory);
    if (slab === undefined) return;
    if (!slab.dedicated) {
      const slot = byteOffset >>> kSpareShift;
      slab.spare[slot] = buffer;
      slab.spareOffset[slot] = byteOffset;
    }
    slab.live--;
    if (slab.live > 0) return;
    if (slab.dedicated) {
      this.#bySlabMemory.delete(slab.buffer);
      this.#registry.unregisterOutbound(slab.index);
    } else if (slab === this.#current) {
      slab.offset = 0;
    }
  }

  /**
   * The native slab index of `memory` (the `buffer` of a Buffer returned by `allocate`), or -1
   * for foreign memory.
   */
  slabIndexOf(memory: ArrayBufferLike): number {
    const slab = this.#bySlabMemory.get(memory);
    return slab === undefined ? -1 : slab.index;
  }

  #nextSlab(): OutboundSlab {
    for (const slab of this.#shared) {
      if (slab.live === 0 && slab !== this.#current) {
        slab.offset = 0;
        this.#current = slab;
        return slab;
      }
    }
    const buffer = new ArrayBuffer(this.#slabSize);
    const slots = Math.ceil(this.#slabSize / (1 << kSpareShift));
    const slab: OutboundSlab = {
      buffer,
      index: this.#registry.registerOutbound(buffer),
      dedicated: false,
      offset: 0,
      live: 0,
      spare: new Array<Buffer | null>(slots).fill(null),
      spareOffset: new Int32Array(slots),
    };
    this.#shared.push(slab);
    this.#bySlabMemory.set(buffer, slab);
    this.#current = slab;
    return slab;
  }

  #dedicated(size: number): Buffer {
    const buffer = new ArrayBuffer(size);
    const slab: OutboundSlab = {
      buffer,
      index: this.#registry.registerOutbound(buffer),
      dedicated: true,
      offset: size,
      live: 1,
      spare: kNoSpare,
      spareOffset: kNoSpareOffset,
    };
    this.#bySlabMemory.set(buffer, slab);
    this.lastMemory = buffer;
    this.lastByteOffset = 0;
    return Buffer.from(buffer, 0, size);
  }
}
