/**
 * The event-loop task pool: gopool's role in Node.
 *
 * Design after bytedance/gopkg `util/gopool` (Apache-2.0), re-designed for one JS thread; no
 * code is copied. A "worker" is a running slot: a chain that takes queued tasks one after
 * another and awaits each one that returns a promise. As in gopool, a submission starts a new
 * worker while fewer than `cap` run (the first submission always starts one), tasks above the
 * cap wait in a FIFO queue, and a worker exits as soon as the queue is empty, so
 * `workerCount()` returns to 0 when the pool is idle. A task that throws or rejects goes to
 * the panic handler with the task's ctx and the pool carries on.
 */
import { InvalidArgumentError, queueFullError } from './errors';
import { Fifo } from './fifo';
import {
  integerIn,
  kMaxCap,
  type PanicHandler,
  type PoolLogger,
  type PoolOptions,
  resolvePoolOptions,
} from './options';

/** A task for `go()`: may return a promise, which the pool awaits before the slot is reused. */
export type Task = () => unknown;

/** A task for `ctxGo()`: gets the ctx it was submitted with. */
export type CtxTask<C> = (ctx: C) => unknown;

/** Counters of an event-loop {@link Pool}; all are totals since construction except the first two. */
export interface PoolStats {
  /** Tasks running now (the same as `workerCount()`). */
  readonly workers: number;
  /** Tasks waiting for a slot. */
  readonly queued: number;
  /** Tasks that returned or resolved. */
  readonly completed: number;
  /** Tasks that threw or rejected (each went to the panic handler or was reported once). */
  readonly panicked: number;
  /** `ctxGo` tasks not run because their `AbortSignal` had fired before they started. */
  readonly aborted: number;
}

// `then()` on a settled promise queues a plain microtask job. `queueMicrotask()` costs several
// times more in Node: it wraps every callback in an async resource for async_hooks.
const kResolved = Promise.resolve();

function defaultReport(message: string, error: unknown): void {
  let detail: string | undefined;
  try {
    detail = error instanceof Error && error.stack ? String(error.stack) : undefined;
  } catch {
    detail = undefined; // a stack getter that throws
  }
  process.emitWarning(message, { code: 'NETPOLL_GOPOOL_PANIC', detail });
}

/** What a thrown value says; never throws (a value may refuse `String`). */
function describe(error: unknown): string {
  try {
    return error instanceof Error ? String(error.message) : String(error);
  } catch {
    return 'a value that cannot be shown as text';
  }
}

/**
 * A named pool of event-loop tasks with a concurrency cap, a queue and a panic handler.
 *
 * Tasks start in a microtask after `go()`/`ctxGo()` returns, never inside the call. Lifetime:
 * a pool holds no timers or handles, so it needs no closing; an idle pool costs nothing.
 */
export class Pool {
  /** The name given at construction (used by `registerPool` and in reports). */
  readonly name: string;
  #cap: number;
  readonly #maxQueue: number;
  #panicHandler: PanicHandler | undefined;
  readonly #logger: PoolLogger | undefined;
  // Alternating entries: the task function, then its ctx.
  readonly #queue = new Fifo<unknown>(32);
  #workers = 0;
  #starting = 0; // Workers started whose first microtask has not run yet; each will take a task.
  #startScheduled = false; // A #startAll microtask is queued.
  #completed = 0;
  #panicked = 0;
  #aborted = 0;

  /**
   * @param name the pool's name, a non-empty string.
   * @param options see {@link PoolOptions}.
   * @throws ERR_NETPOLL_INVALID_ARG / ERR_NETPOLL_OUT_OF_RANGE for a bad name or option.
   */
  constructor(name: string, options?: PoolOptions) {
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidArgumentError('name', 'a non-empty string', name);
    }
    const resolved = resolvePoolOptions(options);
    this.name = name;
    this.#cap = resolved.cap;
    this.#maxQueue = resolved.maxQueue;
    this.#panicHandler = resolved.panicHandler;
    this.#logger = resolved.logger;
  }

  /** The current concurrency cap. */
  get cap(): number {
    return this.#cap;
  }

  /**
   * Changes the concurrency cap. Running tasks are not interrupted; a lower cap takes effect
   * as they finish, a higher one when the next task is submitted.
   * @throws ERR_NETPOLL_INVALID_ARG / ERR_NETPOLL_OUT_OF_RANGE unless `cap` is an integer 1..2147483647.
   */
  setCap(cap: number): void {
    this.#cap = integerIn(cap, 'cap', 1, kMaxCap);
  }

  /**
   * Sets (or with `undefined`, clears) the handler that gets `(error, ctx)` for each task
   * that throws or rejects. With no handler, each failure is reported once through the
   * `logger` option or a process warning.
   */
  setPanicHandler(handler: PanicHandler | undefined): void {
    if (handler !== undefined && typeof handler !== 'function') {
      throw new InvalidArgumentError('handler', 'a function or undefined', handler);
    }
    this.#panicHandler = handler;
  }

  /** Tasks running now. 0 once the pool is idle. */
  workerCount(): number {
    return this.#workers;
  }

  /** A snapshot of the pool's counters. */
  stats(): PoolStats {
    return {
      workers: this.#workers,
      queued: this.#waiting(),
      completed: this.#completed,
      panicked: this.#panicked,
      aborted: this.#aborted,
    };
  }

  /**
   * Runs `task` on the event loop under the pool's cap. Returns nothing: a task's failure
   * goes to the panic handler (ctx `undefined`).
   * @throws ERR_NETPOLL_INVALID_ARG unless `task` is a function.
   * @throws ERR_NETPOLL_GOPOOL_QUEUE_FULL when `cap` tasks run and `maxQueue` tasks wait.
   */
  go(task: Task): void {
    if (typeof task !== 'function') throw new InvalidArgumentError('task', 'a function', task);
    this.#submit(task, undefined);
  }

  /**
   * Runs `task(ctx)` like {@link go}; a failure reaches the panic handler with this `ctx`.
   * When `ctx` is an `AbortSignal` that has fired by the time the task would start, the task
   * is not run and is only counted in `stats().aborted`: cancellation is the submitter's own
   * decision, not a failure, so it never reaches the panic handler.
   * @throws ERR_NETPOLL_INVALID_ARG unless `task` is a function.
   * @throws ERR_NETPOLL_GOPOOL_QUEUE_FULL when `cap` tasks run and `maxQueue` tasks wait.
   */
  ctxGo<C>(ctx: C, task: CtxTask<C>): void {
    if (typeof task !== 'function') throw new InvalidArgumentError('task', 'a function', task);
    this.#submit(task as CtxTask<unknown>, ctx);
  }

  #submit(task: CtxTask<unknown>, ctx: unknown): void {
    if (this.#workers >= this.#cap && this.#workers !== 0) {
      if (this.#waiting() >= this.#maxQueue) throw queueFullError(this.#maxQueue);
    } else {
      this.#workers++;
      this.#starting++;
      if (!this.#startScheduled) {
        this.#startScheduled = true;
        kResolved.then(this.#startAll);
      }
    }
    this.#queue.push(task);
    this.#queue.push(ctx);
  }

  /** Tasks in the queue that no started worker is about to take. */
  #waiting(): number {
    return Math.max(0, (this.#queue.size >>> 1) - this.#starting);
  }

  // Starts every worker submitted since the last run: one microtask per burst of go() calls
  // rather than one per call. Each started worker takes tasks exactly as if it had its own.
  readonly #startAll = (): void => {
    this.#startScheduled = false;
    while (this.#starting > 0) {
      this.#starting--;
      this.#work();
    }
  };

  // One worker: runs queued tasks until the queue is empty, awaiting each returned promise.
  // It is a field so that `then()` gets the same function every time.
  readonly #work = (): void => {
    const queue = this.#queue;
    for (;;) {
      if (queue.size === 0 || this.#workers > this.#cap) {
        this.#workers--;
        return;
      }
      const task = queue.shift() as CtxTask<unknown>;
      const ctx = queue.shift();
      if (ctx instanceof AbortSignal && ctx.aborted) {
        this.#aborted++;
        continue;
      }
      let result: unknown;
      let thenable: boolean;
      try {
        result = task(ctx);
        thenable =
          result !== null &&
          (typeof result === 'object' || typeof result === 'function') &&
          typeof (result as PromiseLike<unknown>).then === 'function';
      } catch (error) {
        // The task threw, or its result's `then` could not be read (as `await` would reject).
        this.#panic(error, ctx);
        continue;
      }
      if (thenable) {
        // go() tasks have no ctx, so their rejection handler can be shared.
        const onRejected =
          ctx === undefined
            ? this.#rejected
            : (error: unknown): void => {
                this.#panic(error, ctx);
                this.#work();
              };
        // Through Promise.resolve: a promise as it is; any other thenable settles once (one that
        // calls back twice, or throws in `then`, would otherwise run this worker twice, or never).
        Promise.resolve(result).then(this.#resolved, onRejected);
        return;
      }
      this.#completed++;
    }
  };

  readonly #resolved = (): void => {
    this.#completed++;
    this.#work();
  };

  readonly #rejected = (error: unknown): void => {
    this.#panic(error, undefined);
    this.#work();
  };

  #panic(error: unknown, ctx: unknown): void {
    this.#panicked++;
    const handler = this.#panicHandler;
    if (handler !== undefined) {
      try {
        handler(error, ctx);
        return;
      } catch (handlerError) {
        // A throwing handler must not stop the worker chain; report its error instead.
        this.#report(handlerError, ctx, 'panic handler threw');
        return;
      }
    }
    this.#report(error, ctx, 'panic in pool');
  }

  /** Never throws: the worker that reports must go on to the next task. */
  #report(error: unknown, ctx: unknown, what: string): void {
    const message = `GOPOOL: ${what}: ${this.name}: ${describe(error)}`;
    if (this.#logger !== undefined) {
      try {
        this.#logger(message, error, ctx);
        return;
      } catch (loggerError) {
        defaultReport(`GOPOOL: logger threw: ${this.name}: ${describe(loggerError)}`, loggerError);
      }
    }
    defaultReport(message, error);
  }
}
