/**
 * Memory a connection's output holds for bytes in flight that its writer does not own: a copy in
 * outbound memory, or a pinned inbound slab when a reader view is echoed zero-copy. Entries leave
 * in order once native has written past their end. A ring of parallel arrays, so holding costs no
 * object per write (the zero-copy echo of a large frame is one hold per request).
 */
import type { Buffer } from 'node:buffer';
import type { Reactor } from './reactor';

const kInitialCapacity = 8;

export class HeldMemory {
  readonly #reactor: Reactor;
  #ends: number[] = []; // stream offset just past the held bytes
  #buffers: Array<Buffer | null> = []; // outbound copy, or null for an inbound slab
  #tokens: number[] = []; // inbound slab index when the buffer is null
  #head = 0;
  #count = 0;

  constructor(reactor: Reactor) {
    this.#reactor = reactor;
  }

  /** Holds `buffer` (outbound memory) or inbound slab `token` until the stream reaches `end`. */
  push(end: number, buffer: Buffer | null, token: number): void {
    if (this.#count === this.#ends.length) this.#grow();
    const index = (this.#head + this.#count) & (this.#ends.length - 1);
    this.#ends[index] = end;
    this.#buffers[index] = buffer;
    this.#tokens[index] = token;
    this.#count++;
  }

  /** Frees every entry whose bytes native has written (`acked` is the written stream offset). */
  releaseUpTo(acked: number): void {
    const mask = this.#ends.length - 1;
    while (this.#count > 0 && this.#ends[this.#head]! <= acked) {
      this.#drop(this.#head);
      this.#head = (this.#head + 1) & mask;
      this.#count--;
    }
  }

  /** Frees everything (native no longer references any of it). */
  releaseAll(): void {
    const mask = this.#ends.length - 1;
    for (; this.#count > 0; this.#count--) {
      this.#drop(this.#head);
      this.#head = (this.#head + 1) & mask;
    }
  }

  #drop(index: number): void {
    const buffer = this.#buffers[index]!;
    this.#buffers[index] = null;
    if (buffer !== null) this.#reactor.outbound.free(buffer);
    else this.#reactor.inbound.releaseRegion(this.#tokens[index]!);
  }

  /** Doubles the ring (a power of two), unrolling it so the oldest entry is at index 0. */
  #grow(): void {
    const capacity = Math.max(kInitialCapacity, this.#ends.length * 2);
    const ends: number[] = new Array(capacity).fill(0);
    const buffers: Array<Buffer | null> = new Array(capacity).fill(null);
    const tokens: number[] = new Array(capacity).fill(-1);
    const mask = this.#ends.length - 1;
    for (let i = 0; i < this.#count; i++) {
      const from = (this.#head + i) & mask;
      ends[i] = this.#ends[from]!;
      buffers[i] = this.#buffers[from]!;
      tokens[i] = this.#tokens[from]!;
    }
    // The dropped array may be old: until a full GC its slots still count as roots in scavenges,
    // and would keep the moved Buffers alive.
    this.#buffers.fill(null);
    this.#ends = ends;
    this.#buffers = buffers;
    this.#tokens = tokens;
    this.#head = 0;
  }
}
