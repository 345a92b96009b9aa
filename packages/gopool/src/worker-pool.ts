/**
 * `WorkerPool`: runs exported functions of a task module on `worker_threads`, handing tasks
 * and results over SharedArrayBuffer rings in batches.
 *
 * Design after bytedance/gopkg `util/gopool` (the pool's role) and piscina (MIT: options,
 * lifecycle and the module/export task model); re-designed around per-thread SPSC rings, no
 * code copied from either. This file is the public face; `scheduler.ts` moves the tasks.
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { TransferListItem } from 'node:worker_threads';
import { AbortError, closedError, InvalidArgumentError } from './errors';
import { checkKnownKeys } from './option-keys';
import {
  integerIn,
  type ResolvedWorkerPoolOptions,
  resolveWorkerPoolOptions,
  type WorkerPoolOptions,
} from './options';
import { PoolState, PoolTask } from './pool-task';
import { Scheduler } from './scheduler';

/** Per-call options of {@link WorkerPool.run}. */
export interface RunOptions {
  /** The export to call. Default: the pool's `name` option (`'default'`). */
  name?: string;
  /**
   * Aborts the task: removed if queued, told (its in-thread signal fires) if running. `run()`
   * then rejects with an `AbortError` (`code` `'ABORT_ERR'`, `cause` = `signal.reason`), at
   * once and without starting the task when the signal has already fired.
   */
  signal?: AbortSignal;
  /** Transferred, not copied, to the thread; the task then travels by `postMessage`. */
  transferList?: readonly TransferListItem[];
  /** Milliseconds from `run()` until `ERR_NETPOLL_GOPOOL_TASK_TIMEOUT`; 0 = none. Default: `taskTimeout`. */
  timeout?: number;
}

// Every key of RunOptions: a missing or extra key here fails to compile.
const kRunOptionKeys = Object.keys({
  name: true,
  signal: true,
  transferList: true,
  timeout: true,
} satisfies Record<keyof RunOptions, true>);

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
  /**
   * Tasks rejected after the pool took them, and those refused for a full queue (not a `run()`
   * refused for a bad argument, a signal already aborted or a closed pool).
   */
  readonly failed: number;
  /** Share (0..1) of `maxThreads` × lifetime during which threads held at least one task. */
  readonly utilization: number;
  /** Latency from `run()` to settlement in microseconds (log-linear histogram, ±12.5%). */
  readonly latency: { readonly p50: number; readonly p99: number; readonly count: number };
}

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
  readonly #scheduler: Scheduler;
  readonly #names = new Map<string, number>();
  #lastName: string | undefined; // The export name of the previous run() and its index, to skip the map.
  #lastIndex = 0;
  #nextId = 0;
  // One executor for every run() promise (no closure per task): it parks the resolving
  // functions here, and run() moves them onto the task at once.
  #resolve: (value: unknown) => void = () => undefined;
  #reject: (reason: unknown) => void = () => undefined;
  readonly #capture = (
    resolve: (value: never) => void,
    reject: (reason: unknown) => void,
  ): void => {
    this.#resolve = resolve as (value: unknown) => void;
    this.#reject = reject;
  };

  /**
   * @param options see {@link WorkerPoolOptions}; `filename` is required.
   * @throws ERR_NETPOLL_INVALID_ARG / ERR_NETPOLL_OUT_OF_RANGE for a bad option.
   */
  constructor(options: WorkerPoolOptions) {
    this.options = resolveWorkerPoolOptions(options);
    this.#scheduler = new Scheduler(this.options, resolveWorkerScript());
  }

  /** Threads alive now. */
  get threads(): number {
    return this.#scheduler.handles.length;
  }

  /** Tasks waiting in the pool's queue. */
  get queueSize(): number {
    return this.#scheduler.queued;
  }

  /**
   * Runs export `options.name` (default: the pool's `name`) of the task module as
   * `fn(value, signal)` on a thread and settles with its result. `signal` is an in-thread
   * `AbortSignal`, passed only when `options.signal` was given; when the caller aborts, its
   * reason is an `AbortError` (the caller's reason stays in the event loop).
   *
   * Rejects with: the task's own error (re-created: name, message, stack, own properties);
   * an `AbortError` in Node's shape (`name` `'AbortError'`, `code` `'ABORT_ERR'`, `cause` =
   * `signal.reason`; an already-aborted signal rejects at once, nothing is started);
   * `ERR_NETPOLL_GOPOOL_TASK_TIMEOUT`;
   * `ERR_NETPOLL_GOPOOL_QUEUE_FULL`; `ERR_NETPOLL_GOPOOL_WORKER_CRASHED` /
   * `_WORKER_EXITED`; `ERR_NETPOLL_GOPOOL_MODULE_LOAD`; `ERR_NETPOLL_GOPOOL_DATA_CLONE`;
   * `ERR_NETPOLL_CLOSED` after `close()`/`destroy()`; argument errors for bad options and
   * for keys that are not options.
   */
  run<R = unknown>(value?: unknown, options?: RunOptions): Promise<R> {
    const scheduler = this.#scheduler;
    if (scheduler.state !== PoolState.open) return Promise.reject(closedError());
    let name = this.options.name;
    let signal: AbortSignal | undefined;
    let transferList: readonly TransferListItem[] | undefined;
    let timeout = this.options.taskTimeout;
    if (options !== undefined) {
      // Per-call options are checked field by field, and only the fields that are present:
      // this runs for every task.
      if (typeof options !== 'object' || options === null) {
        return Promise.reject(new InvalidArgumentError('options', 'an object', options));
      }
      if (options.name !== undefined) name = options.name;
      signal = options.signal;
      transferList = options.transferList;
      if (options.timeout !== undefined) timeout = options.timeout;
      const invalid = this.#invalidRunOption(options, name, signal, transferList);
      if (invalid !== undefined) return Promise.reject(invalid);
      // Aborted already: reject before anything is queued or started.
      if (signal?.aborted) {
        return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
      }
    }
    let index = name === this.#lastName ? this.#lastIndex : this.#names.get(name);
    if (index === undefined) {
      index = this.#names.size;
      if (index > 0xffff) {
        const error = new InvalidArgumentError('options.name', 'one of at most 65536 names', name);
        return Promise.reject(error);
      }
      this.#names.set(name, index);
    }
    this.#lastName = name;
    this.#lastIndex = index;
    const id = ++this.#nextId >>> 0;
    const task = new PoolTask(id, index, name, value, transferList, signal, scheduler.clock());
    const promise = new Promise<R>(this.#capture);
    task.resolve = this.#resolve;
    task.reject = this.#reject;
    return scheduler.submit(task, timeout) ?? promise;
  }

  /** Returns the argument error for an unknown key or a bad value in `options`, or undefined. */
  #invalidRunOption(
    options: RunOptions,
    name: unknown,
    signal: unknown,
    transferList: unknown,
  ): Error | undefined {
    const timeout = options.timeout;
    try {
      checkKnownKeys(options, kRunOptionKeys, 'options');
      if (timeout !== undefined) integerIn(timeout, 'options.timeout', 0, 2147483647);
    } catch (error) {
      return error as Error;
    }
    if (name !== this.#lastName && (typeof name !== 'string' || name.length === 0)) {
      return new InvalidArgumentError('options.name', 'a non-empty string', name);
    }
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      return new InvalidArgumentError('options.signal', 'an AbortSignal', signal);
    }
    if (transferList !== undefined && !Array.isArray(transferList)) {
      return new InvalidArgumentError('options.transferList', 'an array', transferList);
    }
    return undefined;
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
    const scheduler = this.#scheduler;
    const now = performance.now();
    let busy = scheduler.busyTotal;
    for (const handle of scheduler.handles) {
      busy += handle.busyTotal + (handle.inflight.size > 0 ? now - handle.busySince : 0);
    }
    const capacity = (now - scheduler.createdAt) * this.options.maxThreads;
    const { histogram } = scheduler;
    return {
      threads: scheduler.handles.length,
      queueSize: scheduler.queued,
      inFlight: scheduler.inFlight,
      completed: scheduler.completed,
      failed: scheduler.failed,
      utilization: capacity > 0 ? Math.min(1, busy / capacity) : 0,
      latency: {
        p50: histogram.percentile(50),
        p99: histogram.percentile(99),
        count: histogram.count,
      },
    };
  }

  /**
   * Stops accepting tasks, lets every queued and running task finish, then terminates the
   * threads. Resolves once every thread has exited. Idempotent.
   */
  close(): Promise<void> {
    return this.#scheduler.close();
  }

  /**
   * Rejects every queued and running task with `error` (default `ERR_NETPOLL_CLOSED`) and
   * terminates the threads at once. Resolves once every thread has exited. Idempotent.
   */
  destroy(error?: unknown): Promise<void> {
    return this.#scheduler.destroy(error);
  }

  /** `await using pool = new WorkerPool(…)` closes the pool: an alias of {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
