/**
 * The reactor's inbound slabs: the ArrayBuffers native `recv()`s into, their reference counts in
 * the shared control block, and the policy for growing the pool (reads land in slabs; a region
 * is borrowed, retained and released).
 *
 * A slab is reused by native only when its count is zero. Every LinkBuffer node over a slab
 * region, every slice of one and every echoed view waiting to be written holds one reference.
 * When native finds every slab referenced it sets `kBatchFlagNeedSlab`; the pool then grows by one
 * slab while it stays within `maxInboundMemory` (and the 1024 inbound slabs native registers;
 * outbound memory is registered apart). Slabs have the configured size, except those that hold whole
 * large frames for native framing (see `ensureFrameCapacity`); native prefers the smallest free
 * slab, so those large ones are touched only when needed. Beyond that, native parks the reading of the connections that
 * have data waiting until a count drops to zero (reads stall; nothing spins, nothing is lost).
 */
import { Buffer } from 'node:buffer';
import type { RegionOwner } from '@netpoll/linkbuffer';
import * as L from './layout';

/** At most this many inbound slabs: native keeps their reference counts in the control block. */
export const kMaxInboundSlabs = L.kMaxSlabs;

/** Registers an inbound ArrayBuffer with native (one JS→native call); a slab index or -errno. */
export type RegisterInbound = (memory: ArrayBuffer) => number;

export class InboundSlabs implements RegionOwner {
  readonly #control: Int32Array;
  readonly #register: RegisterInbound;
  readonly #buffers: Array<Buffer | undefined> = [];
  readonly #indexOf = new Map<ArrayBufferLike, number>();
  #lastSlab: Buffer | null = null; // the last slabOf hit: replies mostly come from one slab
  #lastIndex = -1;
  #slabSize: number;
  #frameBytes = 0; // the largest whole frame a slab must hold (native framing)
  #maxMemory: number;
  #memory = 0;
  #count = 0;

  /**
   * @param control the shared control block (slab counts at `kSlabRefBase`).
   * @param slabSize bytes per slab allocated from now on.
   * @param maxMemory cap in bytes for growth on demand (see {@link InboundSlabs.grow}).
   */
  constructor(control: Int32Array, register: RegisterInbound, slabSize: number, maxMemory: number) {
    this.#control = control;
    this.#register = register;
    this.#slabSize = slabSize;
    this.#maxMemory = maxMemory;
  }

  /** Slabs registered. */
  get count(): number {
    return this.#count;
  }

  /** Bytes of inbound slab memory registered. */
  get memory(): number {
    return this.#memory;
  }

  /** The cap on growth, in bytes (`ReactorOptions.maxInboundMemory`). */
  get maxMemory(): number {
    return this.#maxMemory;
  }

  /**
   * Changes the size of later slabs (never below a frame capacity already asked for) and the
   * growth cap. Existing slabs stay.
   */
  configure(slabSize: number, maxMemory: number): void {
    this.#slabSize = slabSize;
    this.#maxMemory = maxMemory;
  }

  /** Adds a slab regardless of the cap (start-up, frame capacity). False when native is full. */
  add(size = this.#slabSize): boolean {
    const memory = new ArrayBuffer(size);
    const index = this.#register(memory);
    if (index < 0) return false;
    this.#buffers[index] = Buffer.from(memory);
    this.#indexOf.set(memory, index);
    this.#memory += memory.byteLength;
    this.#count++;
    return true;
  }

  /**
   * Native found every slab it could use referenced: adds one while the pool stays within the
   * memory cap — of the configured size, or of the frame capacity when no slab that large is free
   * (only such a slab can take a whole large frame; native reads ordinary data into the smallest
   * free slab, so a frame-sized slab is usually free unless a large frame holds it). Returns false
   * when the cap (or 1024 slabs) is reached; reads then stall until a slab is released.
   */
  grow(): boolean {
    if (this.#count >= kMaxInboundSlabs) return false;
    const size =
      this.#frameBytes > this.#slabSize && !this.#freeSlabOf(this.#frameBytes)
        ? this.#frameBytes
        : this.#slabSize;
    if (this.#memory + size > this.#maxMemory) return false;
    return this.add(size);
  }

  /**
   * Makes sure a slab can hold a whole frame of `frameBytes` (native framing needs a complete
   * frame in one slab): adds one of that size now when none is that large, and lets `grow()` add
   * another when every slab that large is in use. Ordinary slabs keep their configured size.
   */
  ensureFrameCapacity(frameBytes: number): void {
    if (frameBytes <= this.#frameBytes) return;
    this.#frameBytes = frameBytes;
    if (frameBytes > this.#slabSize && !this.#hasSlabOf(frameBytes)) this.add(frameBytes);
  }

  /** The Buffer over slab `index` (for the dispatcher). */
  buffer(index: number): Buffer {
    return this.#buffers[index]!;
  }

  /**
   * The index of slab `buffer` when it is one of the slab Buffers handed out with records (what
   * reader nodes and the regions they share hold; it starts at offset 0 of its slab), or -1 for
   * any other Buffer, views of slab memory included. The last hit is remembered, so the usual
   * case is one comparison and no `buffer.buffer` getter.
   */
  slabOf(buffer: Buffer, memory: ArrayBufferLike): number {
    if (buffer === this.#lastSlab) return this.#lastIndex;
    const index = this.indexOfMemory(memory);
    if (index < 0 || this.#buffers[index] !== buffer) return -1;
    this.#lastSlab = buffer;
    this.#lastIndex = index;
    return index;
  }

  /** The slab index of `memory` (a slab's ArrayBuffer), or -1. */
  indexOfMemory(memory: ArrayBufferLike): number {
    return this.#indexOf.get(memory) ?? -1;
  }

  /** Takes one reference on slab `index` (dropped with `releaseRegion`). */
  retain(index: number): void {
    this.#control[L.kSlabRefBase + index]!++;
  }

  #hasSlabOf(size: number): boolean {
    for (const buffer of this.#buffers)
      if (buffer !== undefined && buffer.length >= size) return true;
    return false;
  }

  #freeSlabOf(size: number): boolean {
    const buffers = this.#buffers;
    for (let index = 0; index < buffers.length; index++) {
      const buffer = buffers[index];
      if (buffer === undefined || buffer.length < size) continue;
      if (this.#control[L.kSlabRefBase + index] === 0) return true;
    }
    return false;
  }

  /** RegionOwner: a reader, slice or pending write dropped its reference to a slab region. */
  releaseRegion(token: number): void {
    this.#control[L.kSlabRefBase + token]!--;
  }
}
