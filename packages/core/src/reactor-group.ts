/**
 * Multi-core serving: the N reactors behind one `EventLoop` created
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
 * is reported and not retried, and a reactor replaced 5 times within 60 s is not replaced again.
 * When no reactor is left, the loop's `serve()` promises reject with the last error.
 */
import { performance } from 'node:perf_hooks';
import { reactorCrashedError } from './errors';
import type { ResolvedEventLoopOptions } from './event-loop-options';
import type { Listener } from './listener';
import type { ListenerSpec } from './reactor-messages';
import { ReactorSlot } from './reactor-slot';
import type { ReactorStats } from './reactor-stats';

/** Replacements of one reactor allowed within {@link kRestartWindow} ms. */
const kMaxRestarts = 5;
const kRestartWindow = 60_000;

/** The N worker reactors of one EventLoop (see the file header). */
export class ReactorGroup {
  readonly #options: ResolvedEventLoopOptions;
  readonly #countView: Int32Array;
  readonly #slots: ReactorSlot[] = [];
  readonly #listeners = new Map<number, ListenerSpec>();
  readonly #restarts: number[][] = [];
  readonly #onDead: (error: Error) => void;
  #started: Promise<void> | null = null;
  /** Set once every reactor is gone for good; later attaches reject with it. */
  #deadError: Error | null = null;
  #stopping = false;
  #nextId = 1;

  /**
   * @param onDead called when every reactor is gone for good (crashed past the restart limit, or
   *   its replacement failed to start); the loop then rejects its `serve()` promises with `error`.
   */
  constructor(options: ResolvedEventLoopOptions, onDead: (error: Error) => void) {
    this.#options = options;
    this.#onDead = onDead;
    this.#countView = new Int32Array(new SharedArrayBuffer(options.reactors * 4));
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
   * The debug counters of every reactor, by reactor index; `null` for a reactor that is not
   * serving (not started yet, or gone). One message round trip per reactor.
   */
  stats(): Promise<Array<ReactorStats | null>> {
    return Promise.all(this.#slots.map((slot) => slot.stats()));
  }

  /**
   * Starts the reactors on first use, then makes every reactor serve `listener`. Resolves with an
   * id for {@link detach}; rejects with `ERR_NETPOLL_HANDLER_LOAD` (the handler module), a start
   * crash (`ERR_NETPOLL_REACTOR_CRASHED`), `ERR_NETPOLL_REUSE_PORT_REQUIRED` or a system error.
   */
  async attach(listener: Listener): Promise<number> {
    await this.#start();
    if (this.#deadError !== null) throw this.#deadError;
    const spec: ListenerSpec = {
      id: this.#nextId++,
      network: listener.network,
      address: listener.address,
      fd: listener.fd,
      backlog: listener.backlog,
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

  /** Cuts a shutdown in progress short: every reactor closes what is left now. */
  cutShort(): void {
    for (const slot of this.#slots) slot.cutShort();
  }

  /**
   * Graceful shutdown of every reactor, in two steps: every reactor stops accepting (closes its
   * listeners), and only once all have does any of them drain its connections (its
   * `EventLoop.shutdown`, with what is left of `timeout`). Draining tells peers to go away (an
   * RPC GOAWAY), and they dial again at once: were another reactor still accepting, a peer's new
   * connection would land in that reactor's backlog, be swept unread by its listener's close,
   * and the requests the peer wrote on it would be lost without a word. With every listening
   * socket closed first, the new dial is refused, as with one reactor. A reactor that does not
   * confirm within `timeout` (its thread blocked) does not hold the others' drains up longer
   * than that. Resolves when every worker thread has exited: true when every reactor drained
   * without closing anything at its deadline.
   */
  async shutdown(timeout: number): Promise<boolean> {
    this.#stopping = true;
    if (this.#started === null) return true;
    const failed = await this.#started.then(
      () => false,
      () => true,
    );
    if (failed) return true; // no reactor ever served: nothing was cut off
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeout);
    });
    try {
      await Promise.race([
        Promise.all(this.#slots.map((slot) => slot.stopAccepting(timeout))),
        deadline,
      ]);
    } finally {
      clearTimeout(timer);
    }
    const left = Math.max(0, timeout - Math.ceil(performance.now() - started));
    const complete = await Promise.all(this.#slots.map((slot) => slot.stop(left)));
    return complete.every(Boolean);
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
        handlerData: options.handlerData,
        options: {
          readTimeout: options.readTimeout,
          writeTimeout: options.writeTimeout,
          idleTimeout: options.idleTimeout,
          framing: options.framing,
          highWaterMark: options.highWaterMark,
          readHighWaterMark: options.readHighWaterMark,
          lingerTimeout: options.lingerTimeout,
        },
        counts: this.#countView.buffer as SharedArrayBuffer,
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
    // A reactor that keeps crashing (a handler failing on every start, say) is not restarted in
    // a tight loop: past kMaxRestarts within kRestartWindow ms its slot stays empty.
    const now = Date.now();
    const recent = (this.#restarts[slot.index] ?? []).filter((time) => now - time < kRestartWindow);
    if (recent.length >= kMaxRestarts) {
      this.#restarts[slot.index] = recent;
      const final = reactorCrashedError(
        slot.index,
        `${recent.length + 1} crashes within ${kRestartWindow / 1000} s; not replaced`,
        error,
      );
      this.#report(final, null);
      this.#checkAlive(final);
      return;
    }
    recent.push(now);
    this.#restarts[slot.index] = recent;
    const replacement = this.#spawn(slot.index);
    this.#slots[slot.index] = replacement;
    replacement.ready
      .then(() =>
        Promise.all([...this.#listeners.values()].map((spec) => replacement.attach(spec))),
      )
      .then(
        () => this.#report(error, replacement),
        (failure: Error) => {
          this.#report(error, null);
          this.#report(failure, null);
          void replacement.terminate().then(() => this.#checkAlive(failure));
        },
      );
  }

  /** With no reactor left (and none coming), nothing serves: tell the loop. */
  #checkAlive(error: Error): void {
    if (this.#stopping || this.#slots.some((slot) => slot.alive || slot.starting)) return;
    this.#deadError = error;
    this.#onDead(error);
  }

  /** To `preferred`'s handler onError, else any live reactor's, else the default (stderr). */
  #report(error: Error, preferred: ReactorSlot | null): void {
    const target = preferred?.alive === true ? preferred : this.#slots.find((slot) => slot.alive);
    if (target !== undefined) target.report(error);
    else this.#options.onError(error, null);
  }
}
