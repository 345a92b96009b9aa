/**
 * The output side of a connection between its writer and the reactor: which flushed bytes were
 * handed to native (`submitted`) and which native reports written (`acked`, from the per-fd
 * counter), plus what follows from them — `writable` against the high-water mark, `'drain'`, and
 * the write timeout. Written bytes are skipped and released from the writer lazily — at the next
 * flush, on `'drain'` or when `writable` is read — so the hot path needs no completion callback.
 */
import type { Buffer } from 'node:buffer';
import type { ChunkVisitor, LinkBuffer } from '@netpoll/linkbuffer';
import { HeldMemory } from './held-memory';
import type { Reactor } from './reactor';
import { monotonicNow } from './timer-wheel';

/** What the output side needs from its connection. */
export interface OutputHost {
  /** False once either side closed. */
  active(): boolean;
  /** Unsent output fell below the high-water mark: emit `'drain'`. */
  drained(): void;
  /** Unsent output reached the high-water mark (reading should stop until `drained()`). */
  outputFull(): void;
  /** Output stayed under kernel backpressure past the write timeout: close the connection. */
  timedOut(): void;
  /** The write deadline changed: make sure the timer wheel calls back by then. */
  armTimer(): void;
}

/**
 * ms the write timeout may fall short by: check times are sums of fractional ms, so the check a
 * whole timeout after the last move can read a hair under it (and would close a period late).
 */
const kClockSlack = 1e-6;

/** Sizes and limits of one connection's output. */
export interface OutputLimits {
  /** Unsent bytes at or above which `writable` is false. */
  highWaterMark: number;
  /** ms of kernel backpressure after which the connection fails (0 = none). */
  writeTimeout: number;
}

export class OutputQueue {
  /** Write timeout in ms (0 = none); see `ConnectionOptions.writeTimeout`. */
  writeTimeout: number;
  readonly #reactor: Reactor;
  readonly #writer: LinkBuffer;
  readonly #copyViews: boolean;
  readonly #fd: number;
  readonly #host: OutputHost;
  readonly #highWaterMark: number;
  // The write timeout is checked every quarter of it (one check at the deadline alone could not
  // tell when output last moved, and would close up to twice the timeout after that).
  #deadline = 0; // monotonic ms of the next check, or 0
  #ackedAtArm = 0; // #acked at the last check
  #movedAt = 0; // monotonic ms of the last check that saw output move (or of arming)
  #drainWatch = false;
  #submitted = 0; // stream offset handed to native
  #acked = 0; // stream offset native confirmed written
  #held: HeldMemory | null = null; // created on the first write of memory the writer does not own
  #detached = false; // the fd was handed back: its counter may belong to a new connection
  #watched = false; // listed with the reactor, which settles this queue after native wrote
  #sharesInbound = false; // some submitted bytes are inbound slab regions (writeFrom, echoed views)

  /**
   * `copyViews`: the connection's reader poisons the slab regions it releases (debug mode), so a
   * reader view written zero-copy could be overwritten before native sends it: copy such views.
   */
  constructor(
    reactor: Reactor,
    writer: LinkBuffer,
    fd: number,
    host: OutputHost,
    limits: OutputLimits,
    copyViews = false,
  ) {
    this.#reactor = reactor;
    this.#writer = writer;
    this.#fd = fd;
    this.#host = host;
    this.#copyViews = copyViews;
    this.#highWaterMark = limits.highWaterMark;
    this.writeTimeout = limits.writeTimeout;
  }

  /** When the write timeout is checked next (monotonic ms), or 0. */
  get deadline(): number {
    return this.#deadline;
  }

  /**
   * False while at least `highWaterMark` submitted bytes are unsent. Starts watching for the
   * drain: native may not have seen the bytes yet, so poll once per loop turn (no native call)
   * until they are sent or native reports backpressure, after which its drain record takes over.
   */
  writable(): boolean {
    this.reclaim();
    if (this.unsent < this.#highWaterMark) return true;
    if (!this.#drainWatch) {
      this.#drainWatch = true;
      setImmediate(this.#watchDrain);
    }
    return false;
  }

  readonly #watchDrain = (): void => {
    if (!this.#drainWatch || !this.#host.active()) return;
    this.reclaim();
    if (this.unsent < this.#highWaterMark) {
      this.#drainWatch = false;
      this.#host.drained();
    } else if (!this.#reactor.blocked(this.#fd)) {
      setImmediate(this.#watchDrain);
    }
  };

  /** Native wrote everything it held after backpressure (a drain record). */
  onDrain(): void {
    this.reclaim();
    this.#deadline = 0;
    this.#drainWatch = false;
    this.#host.drained();
  }

  /**
   * The timer wheel reached a check: fail once output stayed under backpressure, without a byte
   * written, for the write timeout: between one and one and a quarter timeouts after it last
   * moved (checks are a quarter apart, and one that sees a move may come up to a quarter after it).
   */
  checkTimeout(now: number): void {
    if (this.#deadline === 0 || now < this.#deadline) return;
    this.reclaim();
    if (this.unsent === 0) {
      this.#deadline = 0;
      return;
    }
    if (this.#acked !== this.#ackedAtArm || !this.#reactor.blocked(this.#fd)) {
      this.#ackedAtArm = this.#acked;
      this.#movedAt = now;
    } else if (now - this.#movedAt >= this.writeTimeout - kClockSlack) {
      this.#deadline = 0;
      this.#host.timedOut();
      return;
    }
    this.#deadline = now + this.#checkPeriod();
  }

  #checkPeriod(): number {
    return Math.max(1, Math.ceil(this.writeTimeout / 4));
  }

  /** Bytes handed to native and not yet written. */
  get unsent(): number {
    return this.#submitted - this.#acked;
  }

  /** Stream offset confirmed written. */
  get acked(): number {
    return this.#acked;
  }

  /**
   * Queues every flushed byte of the writer not yet handed to native; arms the write timeout.
   * The writer's chunk cursor (`forEachNewChunk`) starts where the previous submission stopped,
   * so a flush costs O(new chunks) however much unsent output is queued. `reclaim()` only skips
   * written bytes, which were all submitted, so it never moves the read position past the cursor.
   */
  submit(): void {
    this.reclaim();
    try {
      this.#writer.forEachNewChunk(this.#submitChunk);
    } finally {
      // Also when a chunk could not be queued (ENOSPC: it stays in the writer for the next
      // flush): the chunks queued before it are in flight and must be watched and timed.
      this.#watchSubmitted();
    }
  }

  /** The bookkeeping after a submission: watch, high-water mark, write deadline. */
  #watchSubmitted(): void {
    if (!this.#watched && this.unsent > 0) {
      this.#watched = true;
      this.#reactor.watchOutput(this);
    }
    if (this.unsent >= this.#highWaterMark) {
      this.#host.outputFull();
      this.writable(); // starts the drain watch that ends the pause
    }
    if (this.writeTimeout > 0 && this.#deadline === 0 && this.unsent > 0) {
      this.#movedAt = monotonicNow();
      this.#deadline = this.#movedAt + this.#checkPeriod();
      this.#ackedAtArm = this.#acked;
      this.#host.armTimer();
    }
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
    this.#held?.releaseUpTo(this.#acked);
  }

  /**
   * Called by the reactor at the start of each batch while output is in flight: releases what
   * native wrote, and once everything is sent, lets go of the writer's last node if it shares an
   * inbound slab region, so a connection that goes quiet does not keep a slab pinned. Returns
   * true when nothing is left in flight (the reactor stops calling).
   */
  settle(): boolean {
    if (this.#detached) {
      this.#watched = false;
      return true;
    }
    this.reclaim();
    if (this.unsent > 0) return false;
    if (this.#sharesInbound) {
      this.#sharesInbound = false;
      this.#writer.trim();
    }
    this.#watched = false;
    return true;
  }

  /** Stops reading the fd's counters (the connection closed; the fd number may be reused). */
  detach(): void {
    this.#detached = true;
    this.#deadline = 0;
  }

  /** Frees the writer's memory and held memory; call once native no longer references it. */
  dispose(): void {
    this.#writer.close();
    this.#held?.releaseAll();
  }

  /**
   * Queues `buffer[start, end)` for native. Memory the writer retains until it is written (its
   * outbound nodes, and inbound slab regions it shares through `writeFrom` or `append`) goes as
   * it is: the writer releases it only after native has written it (see `reclaim`). A reader view
   * written zero-copy is pinned in its slab until written; any other memory is copied into outbound
   * memory first, as native writes only registered slabs. The writer's chunk visitor (a bound
   * field, so a flush creates no closure).
   */
  readonly #submitChunk: ChunkVisitor = (buffer, start, end, retained, memory, memoryOffset) => {
    const reactor = this.#reactor;
    const length = end - start;
    if (retained) {
      // Outbound memory first: what a writer usually holds.
      const own = reactor.outbound.slabIndexOf(memory);
      if (own >= 0) {
        this.#queue(own, memoryOffset + start, length);
        return;
      }
      const shared = reactor.inbound.slabOf(buffer, memory);
      if (shared >= 0) {
        // A slab region the writer shares (writeFrom, append): slab Buffers start at offset 0.
        this.#sharesInbound = true;
        this.#queue(shared, start, length);
        return;
      }
    }
    const viewed = this.#copyViews ? -1 : reactor.inbound.indexOfMemory(memory);
    // Under backpressure a view would stay pinned while the peer does not read: copy it instead.
    if (viewed >= 0 && !reactor.blocked(this.#fd)) {
      // A reader view echoed back (zero-copy writeBinary of slab memory): pin the slab until
      // native has written the bytes, so it is not reused for reads meanwhile.
      reactor.inbound.retain(viewed);
      this.#hold(this.#submitted + length, null, viewed);
      this.#sharesInbound = true;
      this.#queue(viewed, memoryOffset + start, length);
      return;
    }
    // Memory native does not know, or that may not stay valid (a zero-copy writeBinary of a user
    // Buffer, a LinkBuffer appended from another allocator): copy it into outbound memory, freed
    // once written.
    const copy = reactor.outbound.allocate(length);
    buffer.copy(copy, 0, start, end);
    this.#hold(this.#submitted + length, copy, -1);
    this.#queue(reactor.outbound.slabIndexOf(copy.buffer), copy.byteOffset, length);
  };

  #queue(slab: number, offset: number, length: number): void {
    this.#reactor.submitWrite(this.#fd, slab, offset, length);
    this.#submitted += length;
  }

  #hold(end: number, buffer: Buffer | null, token: number): void {
    this.#held ??= new HeldMemory(this.#reactor);
    this.#held.push(end, buffer, token);
  }
}
