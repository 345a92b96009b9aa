/**
 * Multi-core serving (DESIGN.md §3 "Multi-core"): the N reactors behind one `EventLoop` created
 * with a `handler` module, one per `worker_thread`, each with its own addon instance, epoll/kqueue
 * fd, slabs and handler instance (`./reactor-worker`).
 *
 * The main thread orchestrates and is not one of the reactors. It owns the user's listeners, the
 * workers and the connection counts; the N reactors are all alike (same handler loading, same
 * crash handling and replacement), and user code on the main thread (its timers, CPU work, GC)
 * never delays a share of the connections. The price is one mostly idle thread.
 *
 * Spreading connections:
 * - TCP on Linux: reactor 0 adopts a duplicate of the user's listening fd, reactors 1 … N−1 bind
 *   their own `SO_REUSEPORT` socket to the same address, and the kernel hashes connections over
 *   the N sockets. The user's listener must therefore have `reusePort: true`
 *   (`ERR_NETPOLL_REUSE_PORT_REQUIRED` otherwise).
 * - Unix sockets, and TCP elsewhere (BSD/macOS `SO_REUSEPORT` does not balance): every reactor
 *   adopts a duplicate of the user's fd; they share one accept queue, and a reactor that loses the
 *   race for a connection sees `EAGAIN`.
 *
 * A reactor that crashes (an uncaught exception or `process.exit()` in its thread) is replaced:
 * the replacement loads the handler again, serves every current listener, and then receives the
 * `ERR_NETPOLL_REACTOR_CRASHED` error in its `onError`. Connections of the crashed reactor are
 * closed by its env cleanup; the other reactors never notice. A replacement that fails to start
 * is reported and not retried.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { reactorCrashedError } from './errors';
import type { Listener } from './listener';
import type { ResolvedEventLoopOptions } from './options';
import {
  type FromReactorWorker,
  fromWire,
  kReactorWorkerMarker,
  type ListenerSpec,
  type ReactorWorkerSetup,
  type ToReactorWorker,
  toWire,
} from './reactor-messages';

/**
 * The compiled worker body. Next to this file in `dist/`; when this module runs from TypeScript
 * sources (ts-jest), the built copy in `../dist` is used, as workers cannot load `.ts` files.
 */
function workerScript(): string {
  const here = join(__dirname, 'reactor-worker.js');
  return existsSync(here) ? here : join(__dirname, '..', 'dist', 'reactor-worker.js');
}

interface Deferred {
  resolve: () => void;
  reject: (error: Error) => void;
}

/** One reactor worker as the main thread sees it. */
class ReactorSlot {
  readonly index: number;
  /** Resolves once the handler module is loaded; rejects with the start failure. */
  readonly ready: Promise<void>;
  /** Resolves when the thread has exited; never rejects. */
  readonly exited: Promise<void>;
  readonly #worker: Worker;
  readonly #attaches = new Map<number, Deferred>();
  #state: 'starting' | 'ready' | 'gone' = 'starting';
  #stopping = false;
  #uncaught: Error | null = null;
  threadId = -1;

  constructor(setup: ReactorWorkerSetup, onCrash: (slot: ReactorSlot, error: Error) => void) {
    this.index = setup.index;
    const worker = new Worker(workerScript(), {
      workerData: { marker: kReactorWorkerMarker, setup },
    });
    this.#worker = worker;
    let started!: Deferred;
    this.ready = new Promise<void>((resolve, reject) => {
      started = { resolve, reject };
    });
    // A start failure is reported by the group's start promise; never as an unhandled rejection.
    this.ready.catch(() => {});
    this.exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (message: FromReactorWorker) => {
      switch (message.type) {
        case 'ready':
          this.threadId = message.threadId;
          this.#state = 'ready';
          started.resolve();
          return;
        case 'failed':
          this.#state = 'gone';
          started.reject(fromWire(message.error));
          void worker.terminate();
          return;
        case 'attached':
          this.#attaches.get(message.id)?.resolve();
          this.#attaches.delete(message.id);
          return;
        case 'attach-failed':
          this.#attaches.get(message.id)?.reject(fromWire(message.error));
          this.#attaches.delete(message.id);
          return;
        case 'drained':
          // Every connection of this reactor is closed: end the thread even if the handler
          // module left timers or handles behind.
          void worker.terminate();
          return;
      }
    });
    worker.on('error', (error) => {
      this.#uncaught = error;
    });
    worker.once('exit', (code) => {
      const wasReady = this.#state === 'ready';
      this.#state = 'gone';
      const reason =
        this.#uncaught === null
          ? `its thread exited with code ${code}`
          : `uncaught exception: ${this.#uncaught.message}`;
      const error = reactorCrashedError(this.index, reason, this.#uncaught ?? undefined);
      started.reject(error);
      for (const attach of this.#attaches.values()) attach.reject(error);
      this.#attaches.clear();
      if (wasReady && !this.#stopping) onCrash(this, error);
    });
  }

  get alive(): boolean {
    return this.#state === 'ready';
  }

  /** Starts serving `spec` in this reactor; rejects with the worker's error. */
  attach(spec: ListenerSpec): Promise<void> {
    if (!this.alive) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#attaches.set(spec.id, { resolve, reject });
      this.#post({ type: 'attach', listener: spec });
    });
  }

  detach(id: number): void {
    if (this.alive) this.#post({ type: 'detach', id });
  }

  /** Hands `error` to this reactor's handler `onError`. */
  report(error: Error): void {
    this.#post({ type: 'report', error: toWire(error) });
  }

  /** Graceful stop: waits for the start, drains the reactor, and waits for the thread to exit. */
  async stop(timeout: number): Promise<void> {
    this.#stopping = true;
    await this.ready.catch(() => {});
    if (this.alive) this.#post({ type: 'shutdown', timeout });
    await this.exited;
  }

  /** Abrupt stop (the group failed to start). */
  terminate(): Promise<void> {
    this.#stopping = true;
    void this.#worker.terminate();
    return this.exited;
  }

  #post(message: ToReactorWorker): void {
    this.#worker.postMessage(message);
  }
}

/** The N worker reactors of one EventLoop (see the file header). */
export class ReactorGroup {
  readonly #options: ResolvedEventLoopOptions;
  readonly #counts: SharedArrayBuffer;
  readonly #countView: Int32Array;
  readonly #slots: ReactorSlot[] = [];
  readonly #listeners = new Map<number, ListenerSpec>();
  #started: Promise<void> | null = null;
  #stopping = false;
  #nextId = 1;

  constructor(options: ResolvedEventLoopOptions) {
    this.#options = options;
    this.#counts = new SharedArrayBuffer(options.reactors * 4);
    this.#countView = new Int32Array(this.#counts);
  }

  /**
   * Open connections over all reactors. Each reactor stores its own count in shared memory when
   * it accepts or finalizes a connection, so the sum is current to within those stores.
   */
  get connectionCount(): number {
    let total = 0;
    for (let i = 0; i < this.#countView.length; i++) total += Atomics.load(this.#countView, i);
    return total;
  }

  /** Thread ids of the reactors currently serving (for diagnostics and tests). */
  get threadIds(): number[] {
    return this.#slots.filter((slot) => slot.alive).map((slot) => slot.threadId);
  }

  /**
   * Starts the reactors on first use, then makes every reactor serve `listener`. Resolves with an
   * id for {@link detach}; rejects with `ERR_NETPOLL_HANDLER_LOAD` (the handler module), a start
   * crash (`ERR_NETPOLL_REACTOR_CRASHED`), `ERR_NETPOLL_REUSE_PORT_REQUIRED` or a system error.
   */
  async attach(listener: Listener): Promise<number> {
    await this.#start();
    const spec: ListenerSpec = {
      id: this.#nextId++,
      network: listener.network,
      address: listener.address,
      fd: listener.fd,
      reusePort: listener.network === 'tcp' && process.platform === 'linux',
    };
    this.#listeners.set(spec.id, spec);
    try {
      await Promise.all(this.#slots.map((slot) => slot.attach(spec)));
    } catch (error) {
      this.detach(spec.id);
      throw error;
    }
    return spec.id;
  }

  /** Every reactor stops accepting on the listener `id` (its connections stay). */
  detach(id: number): void {
    this.#listeners.delete(id);
    for (const slot of this.#slots) slot.detach(id);
  }

  /**
   * Graceful shutdown of every reactor (each one's `EventLoop.shutdown({ timeout })`); resolves
   * when every worker thread has exited.
   */
  async shutdown(timeout: number): Promise<void> {
    this.#stopping = true;
    if (this.#started === null) return;
    await this.#started.catch(() => {});
    await Promise.all(this.#slots.map((slot) => slot.stop(timeout)));
  }

  #start(): Promise<void> {
    if (this.#started !== null) return this.#started;
    for (let index = 0; index < this.#options.reactors; index++) {
      this.#slots[index] = this.#spawn(index);
    }
    this.#started = Promise.all(this.#slots.map((slot) => slot.ready)).then(
      () => undefined,
      async (error: Error) => {
        // One reactor cannot start (typically the handler module): none serves, no thread stays.
        await Promise.all(this.#slots.map((slot) => slot.terminate()));
        throw error;
      },
    );
    return this.#started;
  }

  #spawn(index: number): ReactorSlot {
    const options = this.#options;
    return new ReactorSlot(
      {
        index,
        reactors: options.reactors,
        handler: options.handler!,
        options: {
          readTimeout: options.readTimeout,
          writeTimeout: options.writeTimeout,
          idleTimeout: options.idleTimeout,
          framing: options.framing,
          highWaterMark: options.highWaterMark,
        },
        counts: this.#counts,
      },
      (slot, error) => this.#crashed(slot, error),
    );
  }

  #crashed(slot: ReactorSlot, error: Error): void {
    Atomics.store(this.#countView, slot.index, 0);
    if (this.#stopping) {
      this.#report(error, null);
      return;
    }
    const replacement = this.#spawn(slot.index);
    this.#slots[slot.index] = replacement;
    replacement.ready
      .then(() =>
        Promise.all([...this.#listeners.values()].map((spec) => replacement.attach(spec))),
      )
      .then(
        () => this.#report(error, replacement),
        (failure: Error) => {
          void replacement.terminate();
          this.#report(error, null);
          this.#report(failure, null);
        },
      );
  }

  /** To `preferred`'s handler onError, else any live reactor's, else the default (stderr). */
  #report(error: Error, preferred: ReactorSlot | null): void {
    const target =
      preferred?.alive === true
        ? preferred
        : this.#slots.find((slot) => slot.alive && slot !== preferred);
    if (target !== undefined) target.report(error);
    else this.#options.onError(error, null);
  }
}
