/**
 * Single-producer single-consumer byte rings in a SharedArrayBuffer: the data path between
 * the event loop and one worker thread.
 *
 * Design after classic SPSC descriptor rings (as in NIC drivers and io_uring), not after any
 * library's code. A ring is a power-of-two data area plus two 32-bit positions
 * that only grow (wrapping at 2^32): `head`, written by the producer, and `tail`, written by
 * the consumer. `head - tail` bytes are in use. Records are 8-byte aligned and start with
 * their own length (u32, header included); a record never wraps: when it does not fit before
 * the end of the area, the producer writes a length of 0 there (a pad marker) and continues
 * at offset 0.
 *
 * ```
 *  data area (size bytes)
 *  ┌────────────┬───────────────┬────────────────┬────────────┐
 *  │    free    │ rec │ rec │ … │ (pad marker 0) │    free    │
 *  └────────────┴───────────────┴────────────────┴────────────┘
 *               ^ tail & mask    (records written, not yet consumed)   ^ head & mask
 * ```
 *
 * Publication: the producer writes record bytes with plain stores and then `Atomics.store`s
 * `head`; the consumer `Atomics.load`s `head` before reading. Atomics are sequentially
 * consistent in JS, so a record is complete whenever the consumer can see it. The producer
 * may commit several records and publish once: that is what batches a wake-up.
 */

// ---- channel layout -----------------------------------------------------------------------

/**
 * Int32 indices of the control words of one worker channel (the first 512 bytes of its
 * SharedArrayBuffer). Words written by different threads sit 64 bytes apart so that the two
 * threads do not keep stealing one cache line from each other.
 */
export const Ctrl = {
  /** Request ring head (event loop writes). */
  reqHead: 0,
  /** 1 while the worker is parked waiting for `reqBell` (worker writes). */
  workerSleeping: 16,
  /** Incremented by the event loop to wake the worker; the worker waits on it. */
  reqBell: 17,
  /** Request ring tail (worker writes). */
  reqTail: 32,
  /** Response ring head (worker writes). */
  respHead: 48,
  /** 1 while the worker waits for room in the response ring (worker writes). */
  respBlocked: 49,
  /** Response ring tail (event loop writes). */
  respTail: 64,
  /**
   * Average time the thread is busy per task, in nanoseconds: an exponentially weighted
   * mean of each call's synchronous run (an async task's awaits do not keep the thread
   * busy, so they do not count). The worker writes it; the event loop reads it to batch,
   * spread or hold back tasks.
   */
  serviceNs: 80,
} as const;

/** The service time a thread is assumed to have before it has run a task: 1 ms ("expensive"). */
export const kInitialServiceNs = 1_000_000;

/** Bytes of control words at the start of a channel. */
export const kCtrlBytes = 512;

/** Int32 indices in the pool-wide control block every worker shares with the event loop. */
export const PoolCtrl = {
  /** Incremented by a worker after it publishes responses; the event loop waits on it. */
  bell: 0,
  /** 1 while the event loop waits on `bell` (event loop writes). */
  mainSleeping: 16,
  /**
   * First of {@link kCostSlots} words: per task function (by its index), the average time a
   * call of it keeps a thread busy, in ns (0: not measured yet). Workers write them; the event
   * loop reads them to tell an expensive task from a cheap one before handing it over, which a
   * thread's own average cannot do when a pool runs cheap and expensive functions.
   */
  costs: 32,
} as const;

/** Functions (the first indices a pool gives names) whose cost is measured apiece. */
export const kCostSlots = 256;

/** Bytes of the pool-wide control block. */
export const kPoolCtrlBytes = PoolCtrl.costs * 4 + kCostSlots * 4;

/** Byte length of a channel with two rings of `ringSize` bytes each. */
export function channelBytes(ringSize: number): number {
  return kCtrlBytes + 2 * ringSize;
}

/** Byte offset of the request ring's data area in a channel. */
export function requestBase(): number {
  return kCtrlBytes;
}

/** Byte offset of the response ring's data area in a channel. */
export function responseBase(ringSize: number): number {
  return kCtrlBytes + ringSize;
}

/** Rounds a record length up to the ring's 8-byte alignment. */
export function align8(n: number): number {
  return (n + 7) & ~7;
}

// ---- shared ----------------------------------------------------------------------------------

/**
 * Wakes the thread parked on `ctrl[bellIndex]` if its sleeping flag `ctrl[sleepingIndex]`
 * is set. The compare-and-swap makes exactly one waker pay for `Atomics.notify`; the bell
 * increment makes a wait that starts after it return at once (it waits on the old value).
 * Call it after publishing: a sleeper that set its flag before the publish is woken, one
 * that sets it after will see the publish when it re-checks.
 */
export function ringBell(ctrl: Int32Array, sleepingIndex: number, bellIndex: number): void {
  if (
    Atomics.load(ctrl, sleepingIndex) === 1 &&
    Atomics.compareExchange(ctrl, sleepingIndex, 1, 0) === 1
  ) {
    Atomics.add(ctrl, bellIndex, 1);
    Atomics.notify(ctrl, bellIndex);
  }
}

/**
 * What both ends of a ring know: where its control words and data area are. The ends are
 * constructed with `(ctrl, view, headIndex, tailIndex, base, size)`.
 */
abstract class RingEnd {
  protected readonly ctrl: Int32Array;
  protected readonly view: DataView;
  protected readonly headIndex: number;
  protected readonly tailIndex: number;
  protected readonly base: number;
  protected readonly size: number;
  protected readonly mask: number;

  /**
   * @param ctrl the channel's control words.
   * @param view a DataView over the whole channel buffer.
   * @param headIndex / tailIndex the ring's control word indices (see {@link Ctrl}).
   * @param base byte offset of the data area; `size` its length (a power of two).
   */
  constructor(
    ctrl: Int32Array,
    view: DataView,
    headIndex: number,
    tailIndex: number,
    base: number,
    size: number,
  ) {
    this.ctrl = ctrl;
    this.view = view;
    this.headIndex = headIndex;
    this.tailIndex = tailIndex;
    this.base = base;
    this.size = size;
    this.mask = size - 1;
  }
}

// ---- producer -----------------------------------------------------------------------------

/** The writing end of a ring. Owned by exactly one thread. */
export class RingProducer extends RingEnd {
  /** Local head: committed records, published or not (int32, wraps). */
  #head = Atomics.load(this.ctrl, this.headIndex);
  /** The head value last stored for the consumer. */
  #published = this.#head;
  /** Last tail read from the consumer; refreshed only when space looks short. */
  #tail = Atomics.load(this.ctrl, this.tailIndex);

  /** The position just after the last committed record (int32, wraps at 2^32). */
  get position(): number {
    return this.#head;
  }

  /** True when every committed record has been consumed. */
  isDrained(): boolean {
    this.#tail = Atomics.load(this.ctrl, this.tailIndex);
    return this.#tail === this.#head;
  }

  /**
   * Finds room for a record of `length` bytes (8-aligned, at most half the ring) and returns
   * its absolute byte offset in the channel, or -1 when the consumer has not freed enough
   * yet. May write a pad marker, which is harmless if the record is then not committed.
   */
  reserve(length: number): number {
    let offset = this.#head & this.mask;
    const contiguous = this.size - offset;
    const needed = contiguous < length ? contiguous + length : length;
    if (this.size - ((this.#head - this.#tail) | 0) < needed) {
      this.#tail = Atomics.load(this.ctrl, this.tailIndex);
      if (this.size - ((this.#head - this.#tail) | 0) < needed) return -1;
    }
    if (contiguous < length) {
      this.view.setUint32(this.base + offset, 0, true);
      this.#head = (this.#head + contiguous) | 0;
      offset = 0;
    }
    return this.base + offset;
  }

  /** Commits the record just written at the reserved offset; `length` must be 8-aligned. */
  commit(length: number): void {
    this.#head = (this.#head + length) | 0;
  }

  /** Makes committed records visible to the consumer. Returns false when there was nothing new. */
  publish(): boolean {
    if (this.#head === this.#published) return false;
    this.#published = this.#head;
    Atomics.store(this.ctrl, this.headIndex, this.#head);
    return true;
  }
}

// ---- consumer -----------------------------------------------------------------------------

/** The reading end of a ring. Owned by exactly one thread. */
export class RingConsumer extends RingEnd {
  /** Local tail (int32, wraps). */
  #tail = Atomics.load(this.ctrl, this.tailIndex);
  /** Last head read from the producer. */
  #head = Atomics.load(this.ctrl, this.headIndex);

  /** The consumed position (int32, wraps at 2^32). */
  get position(): number {
    return this.#tail;
  }

  /** True when a published record is waiting. */
  hasData(): boolean {
    if (this.#tail !== this.#head) return true;
    this.#head = Atomics.load(this.ctrl, this.headIndex);
    return this.#tail !== this.#head;
  }

  /**
   * Returns the absolute byte offset of the next record, or -1 when none is published. The
   * record's length is the u32 at that offset; call {@link consume} once it has been read.
   */
  next(): number {
    for (;;) {
      if (this.#tail === this.#head) {
        this.#head = Atomics.load(this.ctrl, this.headIndex);
        if (this.#tail === this.#head) return -1;
      }
      const offset = this.#tail & this.mask;
      const at = this.base + offset;
      if (this.view.getUint32(at, true) !== 0) return at;
      // A pad marker: the producer continued at offset 0.
      this.#tail = (this.#tail + this.size - offset) | 0;
    }
  }

  /**
   * Frees the record returned by the last {@link next} (its length is 8-aligned) and
   * publishes the new tail at once, so that the producer can reuse the room and can tell
   * which records were taken.
   */
  consume(length: number): void {
    this.#tail = (this.#tail + length) | 0;
    Atomics.store(this.ctrl, this.tailIndex, this.#tail);
  }

  /** Frees the last record like {@link consume} but leaves the tail unpublished (see {@link publishTail}). */
  consumeQuietly(length: number): void {
    this.#tail = (this.#tail + length) | 0;
  }

  /** Publishes the tail after one or more {@link consumeQuietly} calls. */
  publishTail(): void {
    Atomics.store(this.ctrl, this.tailIndex, this.#tail);
  }
}
