/**
 * One reactor worker as the main thread of a `ReactorGroup` (`./reactor-group`) sees it: starts the worker
 * (`./reactor-worker`), tracks its state (starting → ready → gone), turns its messages into
 * promises, and tells the group when a ready reactor died outside a stop.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { reactorCrashedError } from './errors';
import {
  type FromReactorWorker,
  fromWire,
  kReactorWorkerMarker,
  type ListenerSpec,
  type ReactorWorkerSetup,
  type ToReactorWorker,
  toWire,
} from './reactor-messages';
import type { ReactorStats } from './reactor-stats';

/**
 * How long a reactor thread may take to exit after its shutdown deadline (or a cut-short) before
 * it is terminated: a handler stuck in a synchronous loop never reads either message, and
 * `shutdown()` must still settle.
 */
const kExitGraceMs = 1000;

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
export class ReactorSlot {
  readonly index: number;
  /** Resolves once the handler module is loaded; rejects with the start failure. */
  readonly ready: Promise<void>;
  /** Resolves when the thread has exited; never rejects. */
  readonly exited: Promise<void>;
  readonly #worker: Worker;
  readonly #attaches = new Map<number, Deferred>();
  readonly #statsRequests = new Map<number, (stats: ReactorStats | null) => void>();
  #stoppedAccepting: (() => void) | null = null;
  #nextStatsId = 1;
  #state: 'starting' | 'ready' | 'gone' = 'starting';
  #stopping = false;
  #complete = false; // the reactor reported a shutdown that closed nothing at its deadline
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
        case 'stats':
          this.#statsRequests.get(message.id)?.(message.stats);
          this.#statsRequests.delete(message.id);
          return;
        case 'stopped-accepting':
          this.#stoppedAccepting?.();
          this.#stoppedAccepting = null;
          return;
        case 'drained':
          // Every connection of this reactor is closed: end the thread even if the handler
          // module left timers or handles behind.
          this.#complete = message.complete;
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
      for (const answer of this.#statsRequests.values()) answer(null);
      this.#statsRequests.clear();
      this.#stoppedAccepting?.();
      this.#stoppedAccepting = null;
      if (wasReady && !this.#stopping) onCrash(this, error);
    });
  }

  get alive(): boolean {
    return this.#state === 'ready';
  }

  get starting(): boolean {
    return this.#state === 'starting';
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

  /** This reactor's debug counters, or `null` when it is not serving (or exits first). */
  stats(): Promise<ReactorStats | null> {
    if (!this.alive) return Promise.resolve(null);
    return new Promise((resolve) => {
      const id = this.#nextStatsId++;
      this.#statsRequests.set(id, resolve);
      this.#post({ type: 'stats', id });
    });
  }

  /** Hands `error` to this reactor's handler `onError`. */
  report(error: Error): void {
    this.#post({ type: 'report', error: toWire(error) });
  }

  /**
   * The first step of a graceful stop: waits for the start, then this reactor closes its
   * listeners (lingering their swept backlogs up to `timeout` ms). Resolves once it has, or once
   * the thread is gone; never rejects.
   */
  async stopAccepting(timeout: number): Promise<void> {
    this.#stopping = true;
    await this.ready.catch(() => {});
    if (!this.alive) return;
    await new Promise<void>((resolve) => {
      const previous = this.#stoppedAccepting;
      this.#stoppedAccepting = () => {
        previous?.();
        resolve();
      };
      this.#post({ type: 'stop-accepting', timeout });
    });
  }

  /**
   * Graceful stop: waits for the start, drains the reactor, and waits for the thread to exit —
   * terminating it when it has not exited `kExitGraceMs` after the deadline (a blocked thread).
   * Resolves true when the reactor drained without closing anything at its deadline.
   */
  async stop(timeout: number): Promise<boolean> {
    this.#stopping = true;
    await this.ready.catch(() => {});
    if (this.alive) this.#post({ type: 'shutdown', timeout });
    if (Number.isFinite(timeout)) this.#terminateAfter(timeout + kExitGraceMs);
    await this.exited;
    return this.#complete;
  }

  /** A shutdown in progress closes what is left now, as at its deadline. */
  cutShort(): void {
    if (!this.alive) return;
    this.#post({ type: 'cut-short' });
    this.#terminateAfter(kExitGraceMs);
  }

  /** Terminates the thread unless it has exited within `ms`. */
  #terminateAfter(ms: number): void {
    const timer = setTimeout(() => void this.#worker.terminate(), ms);
    timer.unref();
    void this.exited.then(() => clearTimeout(timer));
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
