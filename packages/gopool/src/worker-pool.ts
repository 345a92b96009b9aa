/**
 * `WorkerPool`: runs exported functions of a task module on `worker_threads`, handing tasks
 * and results over SharedArrayBuffer rings in batches.
 *
 * Design after bytedance/gopkg `util/gopool` (the pool's role) and piscina (MIT: options,
 * lifecycle and the module/export task model); re-designed around per-thread SPSC rings, no
 * code copied from either. The event loop never blocks: it parks on `Atomics.waitAsync` on
 * one pool-wide bell while tasks are in flight. All tasks submitted in one tick are
 * published to each thread with one store and at most one `Atomics.notify`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TransferListItem } from 'node:worker_threads';
import { Encoder } from './codec';
import {
  abortedError,
  closedError,
  dataCloneError,
  InvalidArgumentError,
  moduleLoadError,
  queueFullError,
  taskTimeoutError,
  workerCrashedError,
  workerExitedError,
} from './errors';
import { Fifo } from './fifo';
import { Histogram } from './histogram';
import {
  integerIn,
  type ResolvedWorkerPoolOptions,
  resolveWorkerPoolOptions,
  type WorkerPoolOptions,
} from './options';
import { PoolTask, TaskState } from './pool-task';
import { Status, type WorkerMessage } from './protocol';
import { kPoolCtrlBytes, PoolCtrl } from './ring';
import { type HandleOwner, type HandleSettings, SendResult, WorkerHandle } from './worker-handle';

/** Per-call options of {@link WorkerPool.run}. */
export interface RunOptions {
  /** The export to call. Default: the pool's `name` option (`'default'`). */
  name?: string;
  /** Aborts the task: removed if queued, told (its in-thread signal fires) if running. */
  signal?: AbortSignal;
  /** Transferred, not copied, to the thread; the task then travels by `postMessage`. */
  transferList?: readonly TransferListItem[];
  /** Milliseconds from `run()` until `ERR_NETPOLL_GOPOOL_TASK_TIMEOUT`; 0 = none. Default: `taskTimeout`. */
  timeout?: number;
}

/** A snapshot of a {@link WorkerPool}'s state and counters. */
export interface WorkerPoolStats {
  /** Threads alive (including ones still starting). */
  readonly threads: number;
  /** Tasks waiting in the pool's queue (not yet handed to a thread). */
  readonly queueSize: number;
  /** Tasks handed to threads and not settled. */
  readonly inFlight: number;
  /** Tasks that resolved. */
  readonly completed: number;
  /** Tasks that rejected, for any reason. */
  readonly failed: number;
  /** Share (0..1) of `maxThreads` × lifetime during which threads held at least one task. */
  readonly utilization: number;
  /** Latency from `run()` to settlement in microseconds (log-linear histogram, ±12.5%). */
  readonly latency: { readonly p50: number; readonly p99: number; readonly count: number };
}

const kOpen = 0;
const kClosing = 1;
const kDestroyed = 2;
const kIdle = Symbol('idle');
const kShutdown = Symbol('shutdown');

let workerScript: string | undefined;

// The compiled worker entry sits next to this file in dist/. Tests run this file from src/
// through ts-jest, so fall back to the built copy (the test task depends on the build).
function resolveWorkerScript(): string {
  if (workerScript === undefined) {
    const sibling = join(__dirname, 'worker.js');
    workerScript = existsSync(sibling) ? sibling : join(__dirname, '..', 'dist', 'worker.js');
  }
  return workerScript;
}

/**
 * A pool of worker threads running the exported functions of one task module.
 *
 * Lifetime: threads start at construction (`minThreads`) and on demand (`maxThreads`); idle
 * threads are unreferenced, so an idle pool does not keep the process alive. `close()` or
 * `destroy()` terminates every thread; afterwards `run()` rejects with `ERR_NETPOLL_CLOSED`.
 */
export class WorkerPool {
  /** The resolved options (frozen). */
  readonly options: ResolvedWorkerPoolOptions;
  readonly #settings: HandleSettings;
  readonly #owner: HandleOwner = {
    onMessage: (handle, message) => this.#onMessage(handle, message),
    onExit: (handle, exitCode) => this.#onExit(handle, exitCode),
  };
  readonly #poolCtrl: Int32Array;
  readonly #queue = new Fifo<PoolTask>(64);
  readonly #handles: WorkerHandle[] = [];
  readonly #names = new Map<string, number>();
  readonly #encoder = new Encoder();
  readonly #histogram = new Histogram();
  readonly #createdAt = performance.now();
  #state = kOpen;
  #queued = 0; // Live tasks in #queue (aborted ones are skipped lazily).
  #inFlight = 0;
  #nextId = 0;
  #completed = 0;
  #failed = 0;
  #busyTotal = 0;
  #publishScheduled = false;
  #now = 0; // Clock cached for the current burst of run() calls or of settlements.
  #polling = false; // True while #poll settles a batch of results (they share #now).
  #waiting = false;
  #ended: Promise<void> | undefined;
  #endResolve: (() => void) | undefined;

  /**
   * @param options see {@link WorkerPoolOptions}; `filename` is required.
   * @throws ERR_NETPOLL_INVALID_ARG / ERR_NETPOLL_OUT_OF_RANGE for a bad option.
   */
  constructor(options: WorkerPoolOptions) {
    this.options = resolveWorkerPoolOptions(options);
    const poolCtrl = new SharedArrayBuffer(kPoolCtrlBytes);
    this.#poolCtrl = new Int32Array(poolCtrl);
    this.#settings = {
      script: resolveWorkerScript(),
      filename: this.options.filename,
      ringSize: this.options.ringSize,
      resourceLimits: this.options.resourceLimits,
      poolCtrl,
    };
    for (let i = 0; i < this.options.minThreads; i++) this.#spawn();
  }

  /** Threads alive now. */
  get threads(): number {
    return this.#handles.length;
  }

  /** Tasks waiting in the pool's queue. */
  get queueSize(): number {
    return this.#queued;
  }

  /**
   * Runs export `options.name` (default: the pool's `name`) of the task module as
   * `fn(value, signal)` on a thread and settles with its result. `signal` is an in-thread
   * `AbortSignal`, passed only when `options.signal` was given.
   *
   * Rejects with: the task's own error (re-created: name, message, stack, own properties);
   * `ERR_NETPOLL_ABORTED` (cause = `signal.reason`); `ERR_NETPOLL_GOPOOL_TASK_TIMEOUT`;
   * `ERR_NETPOLL_GOPOOL_QUEUE_FULL`; `ERR_NETPOLL_GOPOOL_WORKER_CRASHED` /
   * `_WORKER_EXITED`; `ERR_NETPOLL_GOPOOL_MODULE_LOAD`; `ERR_NETPOLL_GOPOOL_DATA_CLONE`;
   * `ERR_NETPOLL_CLOSED` after `close()`/`destroy()`; argument errors for bad options.
   */
  run<R = unknown>(value?: unknown, options?: RunOptions): Promise<R> {
    if (this.#state !== kOpen) return Promise.reject(closedError());
    let name = this.options.name;
    let signal: AbortSignal | undefined;
    let transferList: readonly TransferListItem[] | undefined;
    let timeout = this.options.taskTimeout;
    if (options !== undefined) {
      try {
        ({ name, signal, transferList, timeout } = this.#runOptions(options));
      } catch (error) {
        return Promise.reject(error);
      }
      if (signal?.aborted) return Promise.reject(abortedError(signal.reason));
    }
    let index = this.#names.get(name);
    if (index === undefined) {
      index = this.#names.size;
      this.#names.set(name, index);
    }
    // One clock read per synchronous burst of run() calls: they are microseconds apart, and
    // the clock is a visible share of a tiny task's cost.
    if (!this.#publishScheduled) this.#now = performance.now();
    const task = new PoolTask(
      ++this.#nextId >>> 0,
      index,
      name,
      value,
      transferList,
      signal,
      this.#now,
    );
    const promise = new Promise<R>((resolve, reject) => {
      task.resolve = resolve as (value: unknown) => void;
      task.reject = reject;
    });
    if (this.#queued > 0 || !this.#dispatch(task)) {
      if (task.state === TaskState.done) return promise; // Rejected while encoding.
      if (this.#queued >= this.options.maxQueue) {
        this.#failed++;
        return Promise.reject(queueFullError(this.options.maxQueue));
      }
      this.#queue.push(task);
      this.#queued++;
    }
    if (timeout > 0) task.timer = setTimeout(() => this.#onTimeout(task, timeout), timeout);
    if (signal !== undefined) {
      task.onAbort = () => this.#onAbort(task);
      signal.addEventListener('abort', task.onAbort, { once: true });
    }
    return promise;
  }

  #runOptions(
    options: RunOptions,
  ): Required<Omit<RunOptions, 'signal' | 'transferList'>> &
    Pick<RunOptions, 'signal' | 'transferList'> {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError('options', 'an object', options);
    }
    const {
      name = this.options.name,
      signal,
      transferList,
      timeout = this.options.taskTimeout,
    } = options;
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidArgumentError('options.name', 'a non-empty string', name);
    }
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new InvalidArgumentError('options.signal', 'an AbortSignal', signal);
    }
    if (transferList !== undefined && !Array.isArray(transferList)) {
      throw new InvalidArgumentError('options.transferList', 'an array', transferList);
    }
    integerIn(timeout, 'options.timeout', 0, 2147483647);
    return { name, signal, transferList, timeout };
  }

  /**
   * An rpc server handler that runs export `name` with the request payload and resolves
   * with the response payload: `(payload: Uint8Array) => Promise<Uint8Array>`. The export
   * must return (or resolve to) a `Uint8Array`; anything else rejects with
   * `ERR_NETPOLL_INVALID_ARG`. Intended for `@netpoll/rpc` (see the README).
   */
  handler(name: string): (payload: Uint8Array) => Promise<Uint8Array> {
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidArgumentError('name', 'a non-empty string', name);
    }
    const options = { name };
    return async (payload: Uint8Array): Promise<Uint8Array> => {
      const result = await this.run(payload, options);
      if (result instanceof Uint8Array) return result;
      throw new InvalidArgumentError(`the result of task '${name}'`, 'a Uint8Array', result);
    };
  }

  /** A snapshot of the pool's state and counters. */
  stats(): WorkerPoolStats {
    const now = performance.now();
    let busy = this.#busyTotal;
    for (const handle of this.#handles) {
      busy += handle.busyTotal + (handle.inflight.size > 0 ? now - handle.busySince : 0);
    }
    const capacity = (now - this.#createdAt) * this.options.maxThreads;
    return {
      threads: this.#handles.length,
      queueSize: this.#queued,
      inFlight: this.#inFlight,
      completed: this.#completed,
      failed: this.#failed,
      utilization: capacity > 0 ? Math.min(1, busy / capacity) : 0,
      latency: {
        p50: this.#histogram.percentile(50),
        p99: this.#histogram.percentile(99),
        count: this.#histogram.count,
      },
    };
  }

  /**
   * Stops accepting tasks, lets every queued and running task finish, then terminates the
   * threads. Resolves once every thread has exited. Idempotent.
   */
  close(): Promise<void> {
    if (this.#state === kOpen) this.#state = kClosing;
    this.#maybeEnd();
    return this.#endPromise();
  }

  /**
   * Rejects every queued and running task with `error` (default `ERR_NETPOLL_CLOSED`) and
   * terminates the threads at once. Resolves once every thread has exited. Idempotent.
   */
  destroy(error?: unknown): Promise<void> {
    if (this.#state !== kDestroyed) {
      this.#state = kDestroyed;
      const reason = error ?? closedError('The pool was destroyed');
      for (let task = this.#queue.shift(); task !== undefined; task = this.#queue.shift()) {
        this.#settle(task, reason, false);
      }
      this.#queued = 0;
      for (const handle of this.#handles) {
        for (const task of handle.inflight.values()) this.#settle(task, reason, false);
      }
      this.#maybeEnd();
    }
    return this.#endPromise();
  }

  #endPromise(): Promise<void> {
    this.#ended ??= new Promise<void>((resolve) => {
      this.#endResolve = resolve;
    });
    this.#maybeEnd();
    return this.#ended;
  }

  /** When closing with nothing left to run (or destroyed): terminate threads; resolve once all exited. */
  #maybeEnd(): void {
    if (this.#state === kOpen || this.#queued > 0 || this.#inFlight > 0) return;
    for (const handle of this.#handles) handle.terminate(kShutdown);
    if (this.#handles.length === 0 && this.#endResolve !== undefined) {
      Atomics.notify(this.#poolCtrl, PoolCtrl.bell); // Release a pending waitAsync.
      this.#endResolve();
      this.#endResolve = undefined;
    }
  }

  // ---- dispatch -----------------------------------------------------------------------------

  /** Hands `task` to the least-loaded thread (starting one if all are busy). False: no room. */
  #dispatch(task: PoolTask): boolean {
    const limit = this.options.concurrentTasksPerWorker;
    let best: WorkerHandle | undefined;
    for (const handle of this.#handles) {
      if (!handle.accepting || handle.inflight.size >= limit) continue;
      if (best === undefined || handle.inflight.size < best.inflight.size) best = handle;
    }
    if (
      (best === undefined || best.inflight.size > 0) &&
      this.#accepting() < this.options.maxThreads
    ) {
      best = this.#spawn();
    }
    if (best === undefined) return false;
    let result: number;
    try {
      result = best.send(task, this.#encoder);
    } catch (error) {
      this.#settle(task, dataCloneError('The task value', error), false);
      return true;
    }
    if (result === SendResult.full) return false;
    task.state = TaskState.handed;
    this.#inFlight++;
    if (best.inflight.size === 1) this.#setBusy(best, true);
    this.#schedulePublish();
    return true;
  }

  #accepting(): number {
    let n = 0;
    for (const handle of this.#handles) if (handle.accepting) n++;
    return n;
  }

  /** Moves queued tasks into free thread slots. */
  #pump(): void {
    while (this.#queued > 0) {
      const task = this.#queue.peek()!;
      if (task.state === TaskState.done) {
        this.#queue.shift();
        continue;
      }
      if (!this.#dispatch(task)) return;
      this.#queue.shift();
      this.#queued--;
    }
    for (let task = this.#queue.peek(); task?.state === TaskState.done; task = this.#queue.peek()) {
      this.#queue.shift();
    }
  }

  #schedulePublish(): void {
    if (this.#publishScheduled) return;
    this.#publishScheduled = true;
    queueMicrotask(this.#publish);
  }

  // Publishes every thread's new requests at once, then makes sure the loop awaits results.
  readonly #publish = (): void => {
    this.#publishScheduled = false;
    for (const handle of this.#handles) handle.publish();
    this.#arm();
  };

  /** Parks on the pool bell until a thread publishes results (never blocks the loop). */
  #arm(): void {
    if (this.#waiting || this.#inFlight === 0) return;
    this.#waiting = true;
    const bell = Atomics.load(this.#poolCtrl, PoolCtrl.bell);
    Atomics.store(this.#poolCtrl, PoolCtrl.mainSleeping, 1);
    let ready = false;
    for (const handle of this.#handles) if (handle.hasResponses()) ready = true;
    if (!ready) {
      const wait = Atomics.waitAsync(this.#poolCtrl, PoolCtrl.bell, bell);
      if (wait.async) {
        void wait.value.then(this.#poll);
        return;
      }
    }
    Atomics.store(this.#poolCtrl, PoolCtrl.mainSleeping, 0);
    setImmediate(this.#poll);
  }

  readonly #poll = (): void => {
    this.#waiting = false;
    this.#now = performance.now();
    Atomics.store(this.#poolCtrl, PoolCtrl.mainSleeping, 0);
    this.#polling = true;
    for (const handle of this.#handles) handle.drain(this.#onResult);
    this.#polling = false;
    this.#pump();
    this.#publish();
    this.#maybeEnd();
  };

  readonly #onResult = (task: PoolTask, status: number, value: unknown): void => {
    if (status === Status.ok) this.#settle(task, value, true);
    else this.#settle(task, this.#failure(status, value), false);
  };

  #failure(status: number, value: unknown): unknown {
    if (status === Status.noExport) {
      return moduleLoadError(
        `The task module ${this.options.filename} has no exported function '${String(value)}'`,
      );
    }
    if (status === Status.dataClone) return dataCloneError(String(value), undefined);
    return value;
  }

  /** Settles a task exactly once and updates the books of its thread. */
  #settle(task: PoolTask, value: unknown, ok: boolean): void {
    const state = task.state;
    if (state === TaskState.done) return;
    task.state = TaskState.done;
    if (state === TaskState.queued) this.#queued--;
    if (task.timer !== undefined) clearTimeout(task.timer);
    if (task.onAbort !== undefined) task.signal!.removeEventListener('abort', task.onAbort);
    const handle = task.handle;
    if (handle?.inflight.delete(task.id)) {
      this.#inFlight--;
      if (handle.inflight.size === 0) this.#setBusy(handle, false);
    }
    const now = this.#polling ? this.#now : performance.now();
    this.#histogram.record((now - task.start) * 1000);
    if (ok) {
      this.#completed++;
      task.resolve(value);
    } else {
      this.#failed++;
      task.reject(value);
    }
  }

  #setBusy(handle: WorkerHandle, busy: boolean): void {
    if (handle.exited) return;
    if (busy) {
      handle.busySince = performance.now();
      handle.worker.ref();
      clearTimeout(handle.idleTimer);
      return;
    }
    handle.busyTotal += performance.now() - handle.busySince;
    handle.worker.unref();
    if (
      this.#state === kOpen &&
      handle.accepting &&
      this.#accepting() > this.options.minThreads &&
      this.options.idleTimeout !== Number.POSITIVE_INFINITY
    ) {
      handle.idleTimer = setTimeout(() => {
        if (handle.inflight.size === 0 && this.#accepting() > this.options.minThreads)
          handle.terminate(kIdle);
      }, this.options.idleTimeout);
      handle.idleTimer.unref();
    }
    this.#maybeEnd();
  }

  // ---- aborts, timeouts, thread exits -------------------------------------------------------

  #onAbort(task: PoolTask): void {
    const handle = task.handle;
    const handed = task.state === TaskState.handed && handle !== null;
    this.#settle(task, abortedError(task.signal!.reason), false);
    if (handed && handle.accepting) handle.cancel(task);
    this.#pump();
  }

  #onTimeout(task: PoolTask, timeout: number): void {
    task.timer = undefined;
    const handle = task.handle;
    if (task.state === TaskState.handed && handle !== null) {
      handle.drain(this.#onResult); // It may have finished in the meantime.
      if (task.state === TaskState.done) return;
      if (handle.started(task)) {
        // Only terminating the thread stops synchronous code; its unstarted tasks are re-queued.
        const error = taskTimeoutError(timeout);
        this.#settle(task, error, false);
        handle.terminate(error);
        return;
      }
      handle.cancel(task);
    }
    this.#settle(task, taskTimeoutError(timeout), false);
    this.#pump();
  }

  #onMessage(handle: WorkerHandle, message: WorkerMessage): void {
    if (message.type === 'result') {
      const task = handle.inflight.get(message.id);
      if (task !== undefined) this.#onResult(task, message.status, message.value);
      this.#pump();
    } else if (message.type === 'ready') {
      handle.ready = true;
    } else {
      const error = message.error;
      if (message.props !== undefined && error !== null && typeof error === 'object') {
        Object.assign(error, message.props);
      }
      handle.loadError = error;
      handle.terminate(
        moduleLoadError(`The task module ${this.options.filename} failed to load`, error),
      );
    }
  }

  #onExit(handle: WorkerHandle, exitCode: number): void {
    handle.accepting = false;
    clearTimeout(handle.idleTimer);
    handle.drain(this.#onResult); // Results it published before it died still count.
    this.#handles.splice(this.#handles.indexOf(handle), 1);
    if (handle.inflight.size > 0) handle.busyTotal += performance.now() - handle.busySince;
    this.#busyTotal += handle.busyTotal;
    handle.exited = true;
    if (!handle.ready && handle.loadError === undefined && handle.error !== undefined) {
      // It died before the task module was even loaded: treat it like a load failure.
      handle.loadError = handle.error;
      handle.terminateCause = moduleLoadError('The worker thread failed to start', handle.error);
    }
    const failed = handle.loadError !== undefined;
    const cause = typeof handle.terminateCause === 'symbol' ? undefined : handle.terminateCause;
    const requeue: PoolTask[] = [];
    let reported = false;
    for (const task of handle.inflight.values()) {
      if (failed) this.#settle(task, cause, false);
      else if (!handle.started(task)) requeue.push(task);
      else if (handle.error !== undefined) {
        this.#settle(task, workerCrashedError(handle.threadId, handle.error), false);
        reported = true;
      } else this.#settle(task, workerExitedError(handle.threadId, exitCode, cause), false);
    }
    for (let i = requeue.length - 1; i >= 0; i--) {
      const task = requeue[i]!;
      handle.inflight.delete(task.id);
      this.#inFlight--;
      task.state = TaskState.queued;
      task.handle = null;
      this.#queue.unshift(task);
      this.#queued++;
    }
    if (failed) {
      // Every thread would fail the same way: fail the queue instead of respawning in a loop.
      for (let task = this.#queue.shift(); task !== undefined; task = this.#queue.shift()) {
        this.#settle(task, cause, false);
      }
    } else if (handle.error !== undefined && !reported) {
      // No task received the error, so it would otherwise be lost.
      process.emitWarning(`WorkerPool thread ${handle.threadId} crashed: ${String(handle.error)}`, {
        code: 'NETPOLL_GOPOOL_WORKER_CRASHED',
      });
    }
    if (this.#state === kOpen && !failed) {
      while (this.#accepting() < this.options.minThreads) this.#spawn();
    }
    if (this.#state !== kDestroyed) this.#pump();
    this.#maybeEnd();
  }

  #spawn(): WorkerHandle {
    const handle = new WorkerHandle(this.#owner, this.#settings);
    this.#handles.push(handle);
    return handle;
  }
}
