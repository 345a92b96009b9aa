/**
 * The result side of a worker thread: encodes each result into the response ring, keeps
 * results that find no room until the event loop frees some, publishes, and wakes a parked
 * event loop. Runs inside the worker thread (see `worker.ts`). Internal.
 */
import { Buffer } from 'node:buffer';
import type { MessagePort } from 'node:worker_threads';
import { Encoder, kHoldsSharedMemory } from './encoder';
import { copyRecord, kResponseHeader, Status } from './protocol';
import { align8, Ctrl, PoolCtrl, RingProducer, responseBase, ringBell } from './ring';

// `then()` on a settled promise queues a plain microtask; `queueMicrotask()` costs more.
const kResolved = Promise.resolve();

/** Writes results for the event loop. One per thread. */
export class Responder {
  readonly #ctrl: Int32Array;
  readonly #poolCtrl: Int32Array;
  readonly #bytes: Buffer;
  readonly #port: MessagePort;
  readonly #ring: RingProducer;
  readonly #encoder = new Encoder();
  readonly #maxRecord: number;
  /** Encoded results waiting for room in the ring, oldest first. */
  readonly pending: Buffer[] = [];
  #flushScheduled = false;
  #unnotified = false; // Results published since the event loop was last offered a wake-up.
  #blocked = false; // Mirrors Ctrl.respBlocked, so that it is stored only when it changes.

  constructor(
    channel: SharedArrayBuffer,
    poolCtrl: Int32Array,
    ringSize: number,
    port: MessagePort,
  ) {
    this.#ctrl = new Int32Array(channel, 0, Ctrl.respTail + 1);
    this.#poolCtrl = poolCtrl;
    this.#bytes = Buffer.from(channel);
    this.#port = port;
    const view = new DataView(channel);
    this.#ring = new RingProducer(
      this.#ctrl,
      view,
      Ctrl.respHead,
      Ctrl.respTail,
      responseBase(ringSize),
      ringSize,
    );
    this.#maxRecord = ringSize / 4;
  }

  /**
   * Encodes the result of task `id` (in `slot` of the pool's table) and commits it to the
   * ring (not yet published). A result larger than a quarter of the ring goes by
   * `postMessage`, and so does one holding shared memory (as it is: structured clone shares
   * it); one that cannot be encoded becomes a `dataClone` status.
   */
  respond(id: number, slot: number, status: number, value: unknown): void {
    const encoder = this.#encoder;
    encoder.reset(0);
    encoder.u32(0);
    encoder.u32(id);
    encoder.u16(slot);
    encoder.u8(status);
    encoder.u8(0);
    // A flag, not the caught value: a getter may throw `undefined`.
    let failed = false;
    let failure: unknown;
    try {
      if (status === Status.thrown) encoder.error(value);
      else encoder.value(value);
    } catch (error) {
      failed = true;
      failure = error;
    }
    if (failed && failure === kHoldsSharedMemory) {
      // Structured clone shares it; ring bytes would copy it.
      const message = { type: 'result', id, slot, status, value, encoded: undefined };
      try {
        this.#port.postMessage(message);
        return;
      } catch (error) {
        failure = error; // Shared memory beside something structured clone refuses.
      }
    }
    if (failed) {
      encoder.reset(10);
      encoder.u8(Status.dataClone);
      encoder.u8(0);
      encoder.value(describe(failure));
    }
    const length = align8(encoder.pos);
    if (length > this.#maxRecord) {
      // Too large for the ring: post the encoded value itself (transferred), so it arrives
      // exactly as it would through the ring.
      const { buf } = encoder;
      const encoded = (buf.buffer as ArrayBuffer).slice(
        buf.byteOffset + kResponseHeader,
        buf.byteOffset + encoder.pos,
      );
      const finalStatus = buf[10]!; // dataClone when the value could not be encoded.
      const message = { type: 'result', id, slot, status: finalStatus, value: undefined, encoded };
      this.#port.postMessage(message, [encoded]);
      return;
    }
    encoder.ensure(length - encoder.pos);
    encoder.u32At(0, length);
    if (this.pending.length === 0) {
      const at = this.#ring.reserve(length);
      if (at >= 0) {
        copyRecord(encoder.buf, this.#bytes, at, length);
        this.#ring.commit(length);
        return;
      }
    }
    this.pending.push(Buffer.from(encoder.buf.subarray(0, length)));
    if (!this.#blocked) {
      this.#blocked = true;
      Atomics.store(this.#ctrl, Ctrl.respBlocked, 1);
    }
  }

  /** Makes committed results visible without waking the event loop (see {@link flush}). */
  publishQuietly(): void {
    if (this.#ring.publish()) this.#unnotified = true;
  }

  /** Moves waiting results into the ring, publishes, and wakes the event loop if it is parked. */
  flush(): void {
    this.#flushScheduled = false;
    const pending = this.pending;
    while (pending.length > 0) {
      const record = pending[0]!;
      const at = this.#ring.reserve(record.length);
      if (at < 0) break;
      copyRecord(record, this.#bytes, at, record.length);
      this.#ring.commit(record.length);
      pending.shift();
    }
    if (pending.length === 0 && this.#blocked) {
      this.#blocked = false;
      Atomics.store(this.#ctrl, Ctrl.respBlocked, 0);
    }
    if (this.#ring.publish()) this.#unnotified = true;
    if (!this.#unnotified) return;
    // An event loop that is not parked now will re-check the rings before it parks.
    this.#unnotified = false;
    ringBell(this.#poolCtrl, PoolCtrl.mainSleeping, PoolCtrl.bell);
  }

  /** True while the event loop is parked waiting for results. */
  mainParked(): boolean {
    return Atomics.load(this.#poolCtrl, PoolCtrl.mainSleeping) === 1;
  }

  /** Flushes in a microtask: async results settling together share one flush. */
  scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    kResolved.then(this.#flushBound);
  }

  readonly #flushBound = (): void => this.flush();

  /** Retries the waiting results; true when at least one went into the ring. */
  flushMadeRoom(): boolean {
    const waiting = this.pending.length;
    this.flush();
    return this.pending.length < waiting;
  }
}

/** A thrown value's message as a string, whatever was thrown (never throws itself). */
function describe(failure: unknown): string {
  try {
    const message = (failure as Error | null | undefined)?.message;
    return typeof message === 'string' ? message : String(failure);
  } catch {
    return 'the value could not be cloned';
  }
}
