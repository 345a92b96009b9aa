/**
 * The event loop's side of one worker thread: its channel (two rings in a
 * SharedArrayBuffer), the tasks handed to it, and its lifecycle. Internal to `WorkerPool`.
 */
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { Decoder } from './decoder';
import { Decoder as RingDecoder } from './decoder';
import { type Encoder, kHoldsSharedMemory } from './encoder';
import { InflightTable } from './inflight-table';
import type { PoolTask } from './pool-task';
import {
  type CancelMessage,
  copyRecord,
  kHasName,
  kHasSignal,
  kRequestHeader,
  kResponseHeader,
  type TaskMessage,
  takenMark,
  type WorkerInit,
  type WorkerMessage,
} from './protocol';
import {
  align8,
  Ctrl,
  channelBytes,
  kCtrlBytes,
  kInitialServiceNs,
  RingConsumer,
  RingProducer,
  requestBase,
  responseBase,
  ringBell,
} from './ring';

/** What a handle reports to its pool. */
export interface HandleOwner {
  onMessage(handle: WorkerHandle, message: WorkerMessage): void;
  onExit(handle: WorkerHandle, exitCode: number): void;
}

/** Settings a handle needs from the pool's resolved options. */
export interface HandleSettings {
  readonly script: string;
  readonly filename: string;
  readonly ringSize: number;
  readonly resourceLimits: object | undefined;
  readonly lingerMs: number;
  readonly poolCtrl: SharedArrayBuffer;
  /** Task slots of a thread: `concurrentTasksPerWorker`. */
  readonly slots: number;
}

/** Copies the value part of the record in `encoder` (after header and name) into a new buffer. */
function encodedValue(encoder: Encoder, name: string | undefined): ArrayBuffer {
  const start = kRequestHeader + (name === undefined ? 0 : 4 + Buffer.byteLength(name));
  const { buf } = encoder;
  return (buf.buffer as ArrayBuffer).slice(buf.byteOffset + start, buf.byteOffset + encoder.pos);
}

/** Result of {@link WorkerHandle.send}. */
export const SendResult = { sent: 0, full: 1 } as const;

/** One worker thread as the pool sees it. */
export class WorkerHandle {
  readonly worker: Worker;
  /** The thread's id, kept for error messages (`worker.threadId` is -1 once it exited). */
  readonly threadId: number;
  /** Tasks handed to the thread and not settled yet, in hand-over order. */
  readonly inflight = new InflightTable();
  /** False once the thread is being terminated or has failed to load the task module. */
  accepting = true;
  /** True once the thread has loaded the task module. */
  ready = false;
  /** Timeouts of started tasks waiting one setImmediate to kill it: hand it nothing new. */
  expiring = 0;
  /** True once the thread's `exit` event was handled. */
  exited = false;
  /** The uncaught error the thread reported, if any (it exits right after). */
  error: unknown = undefined;
  /** Set when the task module failed to load in this thread. */
  loadError: unknown = undefined;
  /** Why the pool terminated the thread, when it did (a timeout error, or a marker). */
  terminateCause: unknown = undefined;
  idleTimer: NodeJS.Timeout | undefined = undefined;
  /** `performance.now()` when the thread was started. */
  readonly startedAt = performance.now();
  /** Whether the worker is referenced (it is only while it holds tasks, give or take a tick). */
  referenced = false;
  busySince = 0;
  busyTotal = 0;
  readonly #ctrl: Int32Array;
  readonly #bytes: Buffer;
  readonly #view: DataView;
  readonly #requests: RingProducer;
  readonly #responses: RingConsumer;
  readonly #decoder: Decoder;
  readonly #maxRecord: number;
  readonly #knownNames: boolean[] = [];
  /** `WorkerInit.live`: the id of the task in each slot, another value once it was cancelled. */
  readonly #live: Uint32Array;

  constructor(owner: HandleOwner, settings: HandleSettings) {
    const { ringSize } = settings;
    const channel = new SharedArrayBuffer(channelBytes(ringSize));
    this.#ctrl = new Int32Array(channel, 0, kCtrlBytes / 4);
    this.#ctrl[Ctrl.serviceNs] = kInitialServiceNs;
    this.#bytes = Buffer.from(channel);
    this.#view = new DataView(channel);
    this.#requests = new RingProducer(
      this.#ctrl,
      this.#view,
      Ctrl.reqHead,
      Ctrl.reqTail,
      requestBase(),
      ringSize,
    );
    this.#responses = new RingConsumer(
      this.#ctrl,
      this.#view,
      Ctrl.respHead,
      Ctrl.respTail,
      responseBase(ringSize),
      ringSize,
    );
    this.#decoder = new RingDecoder(this.#bytes);
    this.#maxRecord = ringSize / 4;
    this.#live = new Uint32Array(new SharedArrayBuffer(4 * settings.slots));
    const workerData: WorkerInit = {
      channel,
      poolCtrl: settings.poolCtrl,
      ringSize,
      filename: settings.filename,
      lingerMs: settings.lingerMs,
      live: this.#live.buffer as SharedArrayBuffer,
    };
    this.worker = new Worker(settings.script, {
      workerData,
      resourceLimits: settings.resourceLimits,
    });
    this.worker.on('message', (message: WorkerMessage) => owner.onMessage(this, message));
    this.worker.on('error', (error) => {
      this.error ??= error;
    });
    this.worker.on('exit', (exitCode) => owner.onExit(this, exitCode));
    this.threadId = this.worker.threadId;
    // Referenced only while it holds tasks (see WorkerPool#setBusy). This must come after the
    // 'message' listener: adding one re-references the worker's port.
    this.worker.unref();
  }

  /**
   * Encodes `task` into the request ring (committed, not yet published). Tasks with a
   * transfer list, with shared memory in their value (structured clone shares it; ring bytes
   * would copy it) or too large for the ring go by `postMessage`. Returns `full` when the
   * ring has no room now. Throws what the encoder throws for an uncloneable value.
   */
  send(task: PoolTask, encoder: Encoder): number {
    let encoded: ArrayBuffer | undefined;
    const first = this.#knownNames[task.index] !== true;
    const slot = this.inflight.nextSlot();
    // Before the thread can see the task (a message may be taken at once).
    Atomics.store(this.#live, slot, task.id);
    if (task.transferList === undefined && this.#encode(task, encoder, slot, first)) {
      const length = align8(encoder.pos);
      if (length <= this.#maxRecord) {
        const at = this.#requests.reserve(length);
        if (at < 0) return SendResult.full;
        encoder.ensure(length - encoder.pos);
        encoder.u32At(0, length);
        copyRecord(encoder.buf, this.#bytes, at, length);
        this.#requests.commit(length);
        this.#knownNames[task.index] = true;
        this.#track(task);
        return SendResult.sent;
      }
      // Too large for the ring: send the encoded value itself, so the value arrives exactly
      // as it would through the ring (a Buffer stays a Buffer, unlike structured clone).
      encoded = encodedValue(encoder, first ? task.name : undefined);
    }
    const message: TaskMessage = {
      type: 'task',
      id: task.id,
      slot,
      index: task.index,
      name: task.name,
      value: encoded === undefined ? task.value : undefined,
      encoded,
      hasSignal: task.signal !== undefined,
    };
    this.worker.postMessage(message, encoded === undefined ? task.transferList : [encoded]);
    this.wake();
    this.#track(task);
    return SendResult.sent;
  }

  /**
   * Encodes `task`'s record (header, its name when `first`, its value) into `encoder`; false
   * when the value holds shared memory, which only `postMessage` can carry.
   */
  #encode(task: PoolTask, encoder: Encoder, slot: number, first: boolean): boolean {
    encoder.reset(0);
    const flags = (first ? kHasName : 0) | (task.signal !== undefined ? kHasSignal : 0);
    encoder.header(task.id, task.index | (flags << 16), slot);
    if (first) encoder.rawString(task.name);
    try {
      encoder.value(task.value);
    } catch (error) {
      if (error === kHoldsSharedMemory) return false;
      throw error;
    }
    return true;
  }

  #track(task: PoolTask): void {
    task.handle = this;
    this.inflight.add(task);
  }

  /** Publishes committed requests and wakes the thread if it is parked. */
  publish(): void {
    if (this.#requests.publish()) this.wake();
  }

  /**
   * Wakes the thread if it is parked: after a publish, and after a message, because a thread
   * asleep in `Atomics.wait` runs no event loop until it wakes.
   */
  wake(): void {
    ringBell(this.#ctrl, Ctrl.workerSleeping, Ctrl.reqBell);
  }

  /**
   * The thread's average busy time per task in nanoseconds, as it measured it (1 ms until
   * it has run one).
   */
  serviceNs(): number {
    return Atomics.load(this.#ctrl, Ctrl.serviceNs);
  }

  /** True when a response is published and not consumed yet. */
  hasResponses(): boolean {
    return this.#responses.hasData();
  }

  /**
   * Consumes every published response, calling `settle(task, status, value)` for the tasks
   * still in flight (a response to a task already aborted or timed out is dropped).
   */
  drain(settle: (task: PoolTask, status: number, value: unknown) => void): void {
    const responses = this.#responses;
    const view = this.#view;
    const decoder = this.#decoder;
    let consumed = false;
    for (let at = responses.next(); at >= 0; at = responses.next()) {
      const length = view.getUint32(at, true);
      const id = view.getUint32(at + 4, true);
      const slot = view.getUint16(at + 8, true);
      const status = this.#bytes[at + 10]!;
      decoder.pos = at + kResponseHeader;
      let value: unknown;
      let failed = false;
      try {
        value = decoder.value();
      } catch (error) {
        value = error;
        failed = true;
      }
      responses.consumeQuietly(length);
      consumed = true;
      const task = this.inflight.get(slot, id);
      if (task !== undefined) settle(task, failed ? 1 : status, value);
    }
    if (!consumed) return;
    // One tail store per pass: the thread only needs it to reuse the room.
    responses.publishTail();
    // The thread stops taking requests while its responses have no room; give it a nudge.
    if (Atomics.load(this.#ctrl, Ctrl.respBlocked) === 1) this.wake();
  }

  /**
   * True when the thread has taken the task (claimed its slot, see {@link revoke}), whether it
   * came through the ring or by message. One not taken never runs there: it can be re-queued.
   */
  started(task: PoolTask): boolean {
    return Atomics.load(this.#live, task.slot) !== task.id;
  }

  /**
   * Tells the thread that an in-flight task was aborted or timed out: one not started yet is
   * skipped, one running with a signal sees it fire.
   */
  cancel(task: PoolTask): void {
    // Not taken yet: it never runs, nothing to tell. Being terminated: nothing runs on.
    if (this.revoke(task) || !this.accepting) return;
    const message: CancelMessage = { type: 'cancel', id: task.id };
    this.worker.postMessage(message);
    this.wake();
  }

  /**
   * Takes back a task the thread has not taken: true when it will never run, false when the
   * thread took it first (it has started). The same exchange as the thread's claim.
   */
  revoke(task: PoolTask): boolean {
    const { id, slot } = task;
    return Atomics.compareExchange(this.#live, slot, id, takenMark(id)) === id;
  }

  /** Stops handing tasks to the thread and terminates it; `exit` follows. */
  terminate(cause: unknown): void {
    if (!this.accepting && this.terminateCause !== undefined) return;
    this.accepting = false;
    this.terminateCause ??= cause;
    clearTimeout(this.idleTimer);
    void this.worker.terminate();
  }
}
