/**
 * The engine of `WorkerPool`: the queue, the threads, hand-over into their rings, the wait
 * for results, and the books (in flight, busy time, latency). Internal; `WorkerPool` is the
 * public face and `thread-events.ts` handles aborts, timeouts and thread exits.
 *
 * The event loop never blocks: while tasks are in flight it polls the rings once per loop
 * iteration for a short while, then parks on `Atomics.waitAsync` on one pool-wide bell.
 * Tasks submitted in one tick are published to each thread with one store and at most one
 * `Atomics.notify`.
 */
import { performance } from 'node:perf_hooks';
// The module's own reference: fake timers installed on the global object (as in a user's
// tests) must not stop the pool from noticing results.
import { setImmediate } from 'node:timers';
import { Encoder } from './encoder';
import { closedError, dataCloneError, moduleLoadError, queueFullError } from './errors';
import { Fifo } from './fifo';
import { Histogram } from './histogram';
import type { ResolvedWorkerPoolOptions } from './options';
import { kShutdown, PoolState, type PoolTask, TaskState } from './pool-task';
import { Status } from './protocol';
import { kCostSlots, kPoolCtrlBytes, PoolCtrl } from './ring';
import { unwatchSignal, watchSignal } from './signal-watch';
import { onAbort, onExit, onMessage, onTimeout, sweepIdle } from './thread-events';
import { type HandleSettings, SendResult, WorkerHandle } from './worker-handle';

/**
 * Backlog (what a thread's tasks are expected to cost, see #dispatch) below which tasks are
 * batched onto one thread rather than spread: 50 µs, a few wake-ups' worth.
 */
const kSpreadNs = 50_000;

/**
 * Backlog above which a thread gets no more tasks until it catches up: 2 ms. It keeps
 * expensive tasks in the pool's queue (any thread that frees up takes the next one) instead
 * of lined up behind a long task; cheap tasks are bounded by concurrentTasksPerWorker first.
 */
const kMaxBacklogNs = 2_000_000;

// `then()` on a settled promise queues a plain microtask; `queueMicrotask()` costs more in
// Node (an async resource per call).
const kResolved = Promise.resolve();

/** See the file comment. Fields without `#` are shared with `thread-events.ts` only. */
export class Scheduler {
  readonly options: ResolvedWorkerPoolOptions;
  readonly queue = new Fifo<PoolTask>(64);
  readonly handles: WorkerHandle[] = [];
  state = PoolState.open;
  queued = 0; // Live tasks in `queue` (aborted ones are skipped lazily).
  inFlight = 0;
  busyTotal = 0; // Busy milliseconds of threads that have exited.
  sweepScheduled = false; // A sweepIdle() is queued for the check phase.
  readonly histogram = new Histogram(); // Latency from submission to settlement (µs).
  readonly createdAt = performance.now();
  readonly #encoder = new Encoder();
  readonly #poolCtrl: Int32Array;
  readonly #costs: Int32Array; // PoolCtrl.costs: what a call of each function costs, ns
  readonly #settings: HandleSettings;
  readonly #owner = {
    onMessage: onMessage.bind(undefined, this),
    onExit: onExit.bind(undefined, this),
  };
  completed = 0;
  failed = 0;
  #publishScheduled = false;
  #now = 0; // Clock cached for the current burst of submissions or of settlements.
  #polling = false; // True while #poll settles and refills a batch (they share #now).
  #waiting = false;
  #pollUntil = 0; // Until when #check keeps polling the rings before parking.
  #ended: Promise<void> | undefined;
  #endResolve: (() => void) | undefined;

  constructor(options: ResolvedWorkerPoolOptions, script: string) {
    this.options = options;
    const poolCtrl = new SharedArrayBuffer(kPoolCtrlBytes);
    this.#poolCtrl = new Int32Array(poolCtrl);
    this.#costs = new Int32Array(poolCtrl, PoolCtrl.costs * 4, kCostSlots);
    this.#settings = {
      script,
      filename: options.filename,
      ringSize: options.ringSize,
      resourceLimits: options.resourceLimits,
      lingerMs: Math.min(options.pollTime, 30) / 1000,
      slots: options.concurrentTasksPerWorker,
      poolCtrl,
    };
    for (let i = 0; i < options.minThreads; i++) this.spawn();
  }

  /**
   * The submission clock: one `performance.now()` per synchronous burst of submissions
   * (they are microseconds apart, and the clock is a visible share of a tiny task's cost).
   */
  clock(): number {
    if (!this.#publishScheduled) this.#now = performance.now();
    return this.#now;
  }

  /**
   * Hands `task` to a thread or queues it, and arms its timeout and abort listener.
   * Returns a rejected promise for `ERR_NETPOLL_GOPOOL_QUEUE_FULL`, else `undefined`.
   */
  submit(task: PoolTask, timeout: number): Promise<never> | undefined {
    if (this.queued > 0 || !this.#dispatch(task)) {
      if (this.queued >= this.options.maxQueue) {
        this.failed++;
        return Promise.reject(queueFullError(this.options.maxQueue));
      }
      this.queue.push(task);
      task.state = TaskState.queued;
      this.queued++;
    }
    // Rejected while it was encoded (a value that cannot be cloned): nothing to arm.
    if (task.state === TaskState.done) return undefined;
    if (timeout > 0) task.timer = setTimeout(() => onTimeout(this, task, timeout), timeout);
    if (task.signal !== undefined) {
      task.onAbort = () => onAbort(this, task);
      watchSignal(task.signal, task.onAbort);
    }
    return undefined;
  }

  // ---- hand-over ----------------------------------------------------------------------------

  /**
   * Hands `task` to a thread; false when none has room. A task is expected to cost what calls
   * of its function have cost (the threads measure it), else the thread's average per task;
   * a thread's backlog is the sum of what its tasks were expected to cost. Cheap tasks are
   * batched onto the fullest thread while its backlog stays under {@link kSpreadNs}: one
   * wake-up then carries many of them, and on a small machine a second thread would only
   * compete with the event loop for a core. Expensive ones go to the thread with the least
   * backlog, a new thread is started while every thread is busy, and once every thread's
   * backlog exceeds {@link kMaxBacklogNs} tasks wait in the pool's queue. Costing by function
   * is what keeps a pool of cheap and expensive functions apart: a thread's average is then a
   * cheap call's, and expensive calls, or cheap ones behind an expensive one, would line up.
   */
  #dispatch(task: PoolTask): boolean {
    const limit = this.options.concurrentTasksPerWorker;
    let fullest: WorkerHandle | undefined;
    let least: WorkerHandle | undefined;
    for (const handle of this.handles) {
      const size = handle.inflight.size;
      if (!handle.accepting || handle.expiring > 0 || size >= limit) continue;
      if (fullest === undefined || size > fullest.inflight.size) fullest = handle;
      const backlog = handle.inflight.costNs;
      if (
        least === undefined ||
        backlog < least.inflight.costNs ||
        (backlog === least.inflight.costNs && size < least.inflight.size)
      ) {
        least = handle;
      }
    }
    // A plain read: a stale figure only makes one decision from the previous one.
    const known = task.index < kCostSlots ? this.#costs[task.index]! : 0;
    let best = least;
    if (
      fullest !== undefined &&
      fullest.inflight.costNs + (known > 0 ? known : fullest.serviceNs()) <= kSpreadNs
    ) {
      best = fullest;
    } else if (
      // A thread being terminated still counts against maxThreads until it has exited.
      (least === undefined || least.inflight.size > 0) &&
      this.handles.length < this.options.maxThreads
    ) {
      best = this.spawn();
    } else if (least !== undefined && least.inflight.costNs >= kMaxBacklogNs) {
      // Every thread already has a long backlog: wait in the pool's queue for the first one
      // to free up, rather than behind a long task on a thread that may stay busy.
      return false;
    }
    if (best === undefined) return false;
    task.costNs = known > 0 ? known : best.serviceNs();
    let result: number;
    try {
      result = best.send(task, this.#encoder);
    } catch (error) {
      this.settle(task, dataCloneError('The task value', error), false);
      return true;
    }
    if (result === SendResult.full) return false;
    task.state = TaskState.handed;
    this.inFlight++;
    if (best.inflight.size === 1) this.#setBusy(best, true);
    if (!this.#publishScheduled) {
      this.#publishScheduled = true;
      kResolved.then(this.#publish);
    }
    return true;
  }

  /** Threads that take new tasks. */
  accepting(): number {
    let n = 0;
    for (const handle of this.handles) if (handle.accepting) n++;
    return n;
  }

  /** Moves queued tasks into free thread slots. */
  pump(): void {
    while (this.queued > 0) {
      const task = this.queue.peek()!;
      if (task.state === TaskState.done) {
        this.queue.shift();
        continue;
      }
      if (!this.#dispatch(task)) return;
      this.queue.shift();
      // A task rejected while it was encoded left the count already (settle).
      if (task.state !== TaskState.done) this.queued--;
    }
    for (let task = this.queue.peek(); task?.state === TaskState.done; task = this.queue.peek()) {
      this.queue.shift();
    }
  }

  // Publishes every thread's new requests at once, then makes sure the loop awaits results.
  readonly #publish = (): void => {
    this.#publishScheduled = false;
    for (const handle of this.handles) handle.publish();
    this.#arm();
  };

  /**
   * Waits for results without ever blocking the loop: first by checking the rings once per
   * loop iteration for up to `pollTime` µs (results of cheap tasks arrive within that, and
   * a parked event loop costs the thread a notify and itself a wake-up), then by parking on
   * the pool bell with `Atomics.waitAsync`.
   */
  #arm(): void {
    if (this.#waiting || this.inFlight === 0) return;
    this.#waiting = true;
    if (this.options.pollTime === 0) {
      this.#park();
      return;
    }
    this.#pollUntil = performance.now() + this.options.pollTime / 1000;
    setImmediate(this.#check);
  }

  readonly #check = (): void => {
    if (this.inFlight === 0) {
      // Everything settled another way (aborts, timeouts, a destroy): nothing to wait for.
      this.#waiting = false;
      return;
    }
    if (this.#hasResponses()) this.#poll();
    else if (performance.now() < this.#pollUntil) setImmediate(this.#check);
    else this.#park();
  };

  #hasResponses(): boolean {
    for (const handle of this.handles) if (handle.hasResponses()) return true;
    return false;
  }

  #park(): void {
    const bell = Atomics.load(this.#poolCtrl, PoolCtrl.bell);
    Atomics.store(this.#poolCtrl, PoolCtrl.mainSleeping, 1);
    // Re-check after announcing sleep: a thread that published before it could see the flag
    // did not ring the bell.
    if (!this.#hasResponses()) {
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
    for (const handle of this.handles) handle.drain(this.onResult);
    this.pump();
    this.#polling = false;
    this.#publish();
    this.maybeEnd();
  };

  // ---- settling -----------------------------------------------------------------------------

  /** Settles a task from a thread's response (`status` from the protocol). */
  readonly onResult = (task: PoolTask, status: number, value: unknown): void => {
    if (status === Status.ok) this.settle(task, value, true);
    else this.settle(task, this.#failure(status, value), false);
  };

  #failure(status: number, value: unknown): unknown {
    if (status === Status.noExport) {
      return moduleLoadError(
        `The task module ${this.options.filename} has no exported function '${String(value)}'`,
      );
    }
    if (status === Status.dataClone) {
      return dataCloneError('The result of the task', new Error(String(value)));
    }
    return value;
  }

  /** Settles a task exactly once and updates the books of its thread. */
  settle(task: PoolTask, value: unknown, ok: boolean): void {
    const state = task.state;
    if (state === TaskState.done) return;
    task.state = TaskState.done;
    if (state === TaskState.queued) this.queued--;
    if (task.timer !== undefined) clearTimeout(task.timer);
    if (task.onAbort !== undefined) unwatchSignal(task.signal!, task.onAbort);
    const handle = task.handle;
    if (handle?.inflight.delete(task)) {
      this.inFlight--;
      if (handle.inflight.size === 0) this.#setBusy(handle, false);
    }
    const now = this.#polling ? this.#now : performance.now();
    this.histogram.record((now - task.start) * 1000);
    if (ok) {
      this.completed++;
      task.resolve(value);
    } else {
      this.failed++;
      task.reject(value);
    }
  }

  // ---- threads ------------------------------------------------------------------------------

  /** Starts a thread. */
  spawn(): WorkerHandle {
    const handle = new WorkerHandle(this.#owner, this.#settings);
    this.handles.push(handle);
    return handle;
  }

  #setBusy(handle: WorkerHandle, busy: boolean): void {
    if (handle.exited) return;
    if (busy) {
      // Inside a burst of submissions or a poll, the cached clock is fresh enough.
      handle.busySince = this.#polling || this.#publishScheduled ? this.#now : performance.now();
      if (!handle.referenced) {
        handle.referenced = true;
        handle.worker.ref();
      }
      if (handle.idleTimer !== undefined) {
        clearTimeout(handle.idleTimer);
        handle.idleTimer = undefined;
      }
      return;
    }
    handle.busyTotal += (this.#polling ? this.#now : performance.now()) - handle.busySince;
    // Unreferencing and arming idle timers wait for the check phase: under load a thread
    // empties and refills within one tick, and those calls would be wasted.
    if (!this.sweepScheduled) {
      this.sweepScheduled = true;
      setImmediate(sweepIdle, this);
    }
    this.maybeEnd();
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  /** See `WorkerPool.close()`. */
  close(): Promise<void> {
    if (this.state === PoolState.open) this.state = PoolState.closing;
    return this.#endPromise();
  }

  /** See `WorkerPool.destroy()`. */
  destroy(error: unknown): Promise<void> {
    if (this.state !== PoolState.destroyed) {
      this.state = PoolState.destroyed;
      const reason = error ?? closedError('The pool was destroyed');
      for (let task = this.queue.shift(); task !== undefined; task = this.queue.shift()) {
        this.settle(task, reason, false);
      }
      this.queued = 0;
      for (const handle of this.handles) {
        for (const task of handle.inflight.values()) this.settle(task, reason, false);
      }
    }
    return this.#endPromise();
  }

  #endPromise(): Promise<void> {
    this.#ended ??= new Promise<void>((resolve) => {
      this.#endResolve = resolve;
    });
    this.maybeEnd();
    return this.#ended;
  }

  /** Closing with nothing left to run, or destroyed: end the threads; resolve once all exited. */
  maybeEnd(): void {
    if (this.state === PoolState.open || this.queued > 0 || this.inFlight > 0) return;
    for (const handle of this.handles) handle.terminate(kShutdown);
    if (this.handles.length === 0 && this.#endResolve !== undefined) {
      Atomics.notify(this.#poolCtrl, PoolCtrl.bell); // Release a pending waitAsync.
      this.#endResolve();
      this.#endResolve = undefined;
    }
  }
}
