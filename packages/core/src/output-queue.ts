/**
 * Bookkeeping between a connection's writer and the reactor: which flushed bytes were handed to
 * native (`submitted`) and which native reports written (`acked`, from the per-fd counter).
 * Written bytes are skipped and released from the writer lazily — at the next flush, on `'drain'`
 * or when `writable` is read — so the hot path needs no completion callback.
 */
import type { LinkBuffer } from '@netpoll/linkbuffer';
import type { Reactor } from './reactor';

/**
 * Memory held for bytes in flight that the writer does not own: a copy in outbound memory
 * (`buffer`), or a pinned inbound slab (`token` ≥ 0) when a reader view is echoed zero-copy.
 */
interface Hold {
  end: number; // stream offset just past the held bytes
  buffer: Buffer | null;
  token: number;
}

export class OutputQueue {
  readonly #reactor: Reactor;
  readonly #writer: LinkBuffer;
  readonly #fd: number;
  #submitted = 0; // stream offset handed to native
  #acked = 0; // stream offset native confirmed written
  #skip = 0; // visitor state: bytes to pass over before the first new byte
  #holds: Hold[] | null = null;
  #detached = false; // the fd was handed back: its counter may belong to a new connection
  readonly #visit = (buffer: Buffer, start: number, end: number): boolean => {
    let from = start;
    if (this.#skip > 0) {
      const length = end - start;
      if (this.#skip >= length) {
        this.#skip -= length;
        return true;
      }
      from += this.#skip;
      this.#skip = 0;
    }
    this.#submitChunk(buffer, from, end);
    return true;
  };

  constructor(reactor: Reactor, writer: LinkBuffer, fd: number) {
    this.#reactor = reactor;
    this.#writer = writer;
    this.#fd = fd;
  }

  /** Bytes handed to native and not yet written. */
  get unsent(): number {
    return this.#submitted - this.#acked;
  }

  /** Stream offset confirmed written. */
  get acked(): number {
    return this.#acked;
  }

  /** Queues every flushed byte of the writer not yet handed to native. */
  submit(): void {
    this.reclaim();
    const pending = this.#submitted - this.#acked;
    if (this.#writer.len() <= pending) return;
    this.#skip = pending;
    this.#writer.forEachChunk(this.#visit);
  }

  /** Skips and releases what native has written since the last call. */
  reclaim(): void {
    if (this.#detached) return;
    const written = this.#reactor.written(this.#fd);
    const delta = (written - this.#acked) >>> 0;
    if (delta === 0 || delta > this.#submitted - this.#acked) return;
    this.#acked += delta;
    const writer = this.#writer;
    writer.skip(delta);
    writer.release();
    const holds = this.#holds;
    if (holds !== null) {
      while (holds.length > 0 && holds[0]!.end <= this.#acked) this.#drop(holds.shift()!);
    }
  }

  /** Stops reading the fd's counters (the connection closed; the fd number may be reused). */
  detach(): void {
    this.#detached = true;
  }

  /** Frees held memory; call once native no longer references it (after close). */
  dispose(): void {
    const holds = this.#holds;
    if (holds === null) return;
    for (const hold of holds) this.#drop(hold);
    this.#holds = null;
  }

  #drop(hold: Hold): void {
    if (hold.buffer !== null) this.#reactor.outbound.free(hold.buffer);
    else this.#reactor.inbound.releaseRegion(hold.token);
  }

  #submitChunk(buffer: Buffer, start: number, end: number): void {
    const reactor = this.#reactor;
    const length = end - start;
    let slab = reactor.outbound.slabIndexOf(buffer);
    let offset = buffer.byteOffset + start;
    if (slab < 0) {
      slab = reactor.inbound.indexOf(buffer);
      if (slab >= 0) {
        // A reader view echoed back (zero-copy writeBinary of slab memory): pin the slab until
        // native has written the bytes, so it is not reused for reads meanwhile.
        reactor.inbound.retain(slab);
        this.#hold({ end: this.#submitted + length, buffer: null, token: slab });
      } else {
        // Memory native does not know (a zero-copy writeBinary of a user Buffer, or an appended
        // LinkBuffer from another allocator): copy it into outbound memory, freed once written.
        const memory = reactor.outbound.allocate(length);
        buffer.copy(memory, 0, start, end);
        slab = reactor.outbound.slabIndexOf(memory);
        offset = memory.byteOffset;
        this.#hold({ end: this.#submitted + length, buffer: memory, token: -1 });
      }
    }
    reactor.submitWrite(this.#fd, slab, offset, length);
    this.#submitted += length;
  }

  #hold(hold: Hold): void {
    this.#holds ??= [];
    this.#holds.push(hold);
  }
}
