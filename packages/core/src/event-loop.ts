/**
 * The server: netpoll's `EventLoop` (`eventloop.go`, `netpoll_server.go`, Apache-2.0; re-designed).
 *
 * Callback order per connection (netpoll §1.4): `onPrepare` (sync, may close) → `onConnect` (may
 * be async) → `onRequest` … (serial, re-run while input remains) → `onDisconnect` (peer close
 * only) → close callbacks (newest first). A throwing or rejecting callback closes only its own
 * connection and reaches `onError`; nothing a peer or a handler does can crash the process.
 */
import { type InspectOptions, inspect } from 'node:util';
import { AbortError, onAbort } from './abort';
import { Connection } from './connection';
import type { ConnectionOwner } from './connection-owner';
import { publishAcceptError, publishOpen } from './diagnostics';
import { closedError, InvalidArgumentError } from './errors';
import {
  checkOnRequestArgument,
  type EventLoopOptions,
  type OnRequest,
  type ResolvedEventLoopOptions,
  resolveEventLoopOptions,
} from './event-loop-options';
import { getReactor } from './get-reactor';
import { Listener } from './listener';
import { resolveShutdownOptions, type ShutdownOptions, type ShutdownResult } from './options';
import type { Reactor, ReactorListener } from './reactor';
import { ReactorGroup } from './reactor-group';
import type { ReactorStats } from './reactor-stats';
import { SlotList } from './slot-list';
import { systemError } from './system-error';

interface Served {
  listener: Listener;
  resolve: () => void;
  reject: (error: Error) => void;
  /** Settles once every reactor accepts on the listener (or serving it failed). */
  accepting: Promise<void>;
}

export class EventLoop implements ConnectionOwner {
  /** The resolved options (frozen). */
  readonly options: ResolvedEventLoopOptions;
  readonly #onRequest: OnRequest | null;
  /** This thread's reactor, or `null` when worker reactors serve (`options.handler` set). */
  readonly #reactor: Reactor | null;
  readonly #group: ReactorGroup | null;
  readonly #served = new Set<Served>();
  readonly #connections = new SlotList<Connection>();
  /** Finalized connections whose fd the reactor has not closed yet (a lingering close). */
  readonly #closing = new SlotList<Connection>();
  #shutdown: Promise<ShutdownResult> | null = null;
  #stopping = false;
  #drained: (() => void) | null = null;
  /** Since the shutdown began, a close of this loop dropped work or output (see `released`). */
  #cut = false;
  #countCells: Int32Array | null = null;
  #countIndex = 0;

  /**
   * @param onRequest the per-connection handler (may be `null`, as in netpoll's stream examples
   *   that only use `onConnect`). It receives the connection and its context; it may return a
   *   promise, and the next call for that connection waits for it.
   *   With `options.handler` it must be `null`: the callbacks come from the handler module, which
   *   each worker reactor loads (README "Multi-core").
   * @param options see {@link EventLoopOptions}; validated here, once.
   * Throws `ERR_NETPOLL_INVALID_ARG` / `ERR_NETPOLL_OUT_OF_RANGE`, and loads the addon on first use
   * (`ERR_NETPOLL_BINDING_LOAD`). With a handler module, no thread starts before `serve()`.
   */
  constructor(onRequest: OnRequest | null, options?: EventLoopOptions) {
    this.options = resolveEventLoopOptions(options);
    this.#onRequest = checkOnRequestArgument(onRequest, this.options);
    const multi = this.options.handler !== null;
    this.#group = multi ? new ReactorGroup(this.options, (error) => this.#dead(error)) : null;
    this.#reactor = multi ? null : getReactor();
  }

  /**
   * Open connections accepted by this loop. With worker reactors: the sum over all of them, read
   * from shared memory each reactor updates as it accepts and finalizes connections.
   */
  get connectionCount(): number {
    return this.#group === null ? this.#connections.size : this.#group.connectionCount;
  }

  /** Thread ids of the worker reactors now serving (empty without a handler module). */
  get reactorThreadIds(): number[] {
    return this.#group === null ? [] : this.#group.threadIds;
  }

  /**
   * Debug counters ({@link ReactorStats}) of the reactors serving this loop: with worker reactors
   * one entry per reactor, by index (`null` for one that is not serving: still starting, or gone;
   * none before the first `serve()` starts them); otherwise one entry, this thread's reactor
   * (shared with every other loop and dial of the thread, as `getReactorStats()`).
   */
  reactorStats(): Promise<Array<ReactorStats | null>> {
    if (this.#group !== null) return this.#group.stats();
    return Promise.resolve([this.#reactor!.stats()]);
  }

  /**
   * @internal A reactor worker's loop publishes its connection count in `cells[index]` (shared
   * memory the main thread sums), updated on every accept and finalize.
   */
  shareConnectionCount(cells: Int32Array, index: number): void {
    this.#countCells = cells;
    this.#countIndex = index;
    Atomics.store(cells, index, this.#connections.size);
  }

  /**
   * Starts accepting on `listener`. The promise resolves when `shutdown()` stops the loop and
   * rejects with `ERR_NETPOLL_CLOSED` when the listener is closed from outside. Throws
   * (rejects) `ERR_NETPOLL_CLOSED` after `shutdown()`. With worker reactors it starts them on
   * first use and also rejects with `ERR_NETPOLL_HANDLER_LOAD`, `ERR_NETPOLL_REACTOR_CRASHED` (a
   * reactor died while starting, or every reactor died for good) or
   * `ERR_NETPOLL_REUSE_PORT_REQUIRED`; the listener stays open.
   */
  serve(listener: Listener): Promise<void> {
    if (!(listener instanceof Listener)) {
      return Promise.reject(
        new InvalidArgumentError('listener', 'a Listener from createListener()', listener),
      );
    }
    if (this.#stopping) return Promise.reject(closedError('event loop'));
    if (listener.closed) return Promise.reject(closedError('listener'));
    for (const served of this.#served) {
      if (served.listener === listener) {
        return Promise.reject(
          new InvalidArgumentError('listener', 'a listener this loop does not serve yet', listener),
        );
      }
    }
    if (listener.served) {
      return Promise.reject(
        new InvalidArgumentError('listener', 'a listener no other loop serves', listener),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const served: Served = { listener, resolve, reject, accepting: Promise.resolve() };
      this.#served.add(served);
      if (this.#group !== null) this.#serveInGroup(served, this.#group);
      else this.#serveHere(served, this.#reactor!);
    });
  }

  #serveHere({ listener, resolve, reject }: Served, reactor: Reactor): void {
    const handle: ReactorListener = {
      onAccept: (fd) => this.#accept(fd, listener, reactor),
      onAcceptError: (errno) => {
        const error = systemError(errno, 'accept');
        publishAcceptError(error, listener);
        this.#report(error, null);
      },
    };
    listener.setCloseHook(() => {
      this.#forget(listener);
      reactor.detachListener(listener.fd, handle);
      if (!this.#stopping) reject(closedError('listener'));
      else resolve();
    });
    const framing = this.options.framing;
    if (framing !== null) {
      reactor.inbound.ensureFrameCapacity(framing.lengthHeader + framing.maxFrameSize);
      reactor.countCall();
      reactor.binding.setFraming(listener.fd, framing.lengthHeader, framing.maxFrameSize);
    }
    reactor.attachListener(listener.fd, handle);
    reactor.countCall();
    reactor.binding.setReading(listener.fd, 1);
  }

  /** The worker reactors accept; this thread keeps the listener and settles the promise. */
  #serveInGroup(served: Served, group: ReactorGroup): void {
    const { listener, resolve, reject } = served;
    let id: number | null = null;
    let closed = false;
    listener.setCloseHook(() => {
      closed = true;
      this.#forget(listener);
      if (id !== null) group.detach(id);
      if (!this.#stopping) reject(closedError('listener'));
      else resolve();
    });
    const attaching = group.attach(listener);
    served.accepting = attaching.then(() => undefined);
    served.accepting.catch(() => {});
    attaching.then(
      (attached) => {
        if (closed) group.detach(attached);
        else id = attached;
      },
      (error: Error) => {
        if (closed) return;
        this.#forget(listener);
        listener.setCloseHook(null);
        reject(error);
      },
    );
  }

  /**
   * Resolves once every reactor accepts on `listener`: at once for a single-thread loop (serve()
   * starts accepting synchronously); with worker reactors, after they started and each one
   * listens. Connections that arrive earlier wait in the listen backlog, they are not lost. Rejects
   * with the error `serve()` rejects with when serving fails, and with `ERR_NETPOLL_INVALID_ARG`
   * when this loop does not serve `listener`.
   */
  whenAccepting(listener: Listener): Promise<void> {
    for (const served of this.#served) {
      if (served.listener === listener) return served.accepting;
    }
    return Promise.reject(
      new InvalidArgumentError('listener', 'a listener this loop serves', listener),
    );
  }

  /** Every worker reactor is gone for good: nothing serves the listeners any more. */
  #dead(error: Error): void {
    for (const served of [...this.#served]) {
      this.#served.delete(served);
      served.listener.setCloseHook(null);
      served.reject(error);
    }
  }

  #forget(listener: Listener): void {
    for (const served of this.#served) {
      if (served.listener === listener) this.#served.delete(served);
    }
  }

  /**
   * Graceful stop (netpoll §3.6, plus a deadline) that loses nothing that arrived before it:
   * stops accepting and closes the listeners (connections already in their backlog are closed
   * lingering, unread, so their peers read EOF rather than a reset); on every connection, reads
   * only the input that had arrived by now, lets handlers and held work (`connection.hold()`)
   * finish, then closes it lingering, so every reply written reaches the peer, whole, followed by
   * EOF. At `options.timeout` ms whatever is left is closed at once. Resolves when every socket
   * is closed — with worker reactors, when every reactor has drained and its thread has exited —
   * with `{ complete }`: false when a close of this loop dropped work or output (README).
   * `options.signal` aborting cuts the graceful phase short like the timeout, and the promise
   * then rejects with an `AbortError` once everything is closed. A second call returns the same
   * promise.
   */
  shutdown(options?: ShutdownOptions): Promise<ShutdownResult> {
    if (this.#shutdown !== null) return this.#shutdown;
    const { timeout, signal } = resolveShutdownOptions(options);
    this.#stopping = true;
    for (const served of [...this.#served]) served.listener.close(timeout);
    const group = this.#group;
    if (group !== null) {
      this.#shutdown = this.#shutdownGroup(group, timeout, signal);
      return this.#shutdown;
    }
    const reactor = this.#reactor!;
    this.#cut = false;
    this.#shutdown = new Promise<ShutdownResult>((resolve, reject) => {
      let timedOut = false;
      let aborted = false;
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        stopListening();
        this.#drained = null;
        if (aborted) reject(new AbortError(signal?.reason));
        else resolve({ complete: !this.#cut });
      };
      const force = (): void => {
        timedOut = true;
        // Handlers or held work still running are cut; a lingering close is cut when its output
        // was undelivered (forceClose reports it through `released`). Only this loop's
        // connections count: the reactor may linger for others too.
        if (this.#connections.size > 0) this.#cut = true;
        for (const connection of this.#connections.values()) connection.destroy();
        for (const connection of this.#closing.values()) reactor.forceClose(connection.fd);
        this.#drained?.();
      };
      this.#drained = () => {
        if (this.#connections.size > 0 || this.#closing.size > 0) return;
        // Connections swept from a listener's backlog linger in native only; the reactor's count
        // includes other loops' and dialed connections' closes, so it is waited for only until
        // the timeout, which cuts none of them.
        if (timedOut) finish();
        else reactor.whenLingerDone(finish);
      };
      const timer = setTimeout(force, timeout);
      // Assigned before onAbort can call back: a signal aborted already forces (and may finish)
      // at once, and finish() stops listening.
      let stopListening = (): void => {};
      stopListening = onAbort(signal, () => {
        aborted = true;
        force();
      });
      for (const connection of this.#connections.values()) connection.drain();
      this.#drained?.();
    });
    return this.#shutdown;
  }

  async #shutdownGroup(
    group: ReactorGroup,
    timeout: number,
    signal: AbortSignal | null,
  ): Promise<ShutdownResult> {
    let aborted = false;
    const stopListening = onAbort(signal, () => {
      aborted = true;
      group.cutShort();
    });
    let complete: boolean;
    try {
      complete = await group.shutdown(timeout);
    } finally {
      stopListening();
    }
    if (aborted) throw new AbortError(signal?.reason);
    return { complete };
  }

  /** `await using loop = new EventLoop(…)`: a graceful `shutdown()` with its default timeout. */
  async [Symbol.asyncDispose](): Promise<void> {
    // `AsyncDisposable` wants a promise of nothing: `shutdown()` says whether it was complete.
    await this.shutdown();
  }

  /** What `util.inspect` shows: the loop's state, not its internals. */
  [inspect.custom](depth: number, options: InspectOptions): string {
    if (depth < 0) return '[EventLoop]';
    const state = {
      reactors: this.#group === null ? 0 : this.options.reactors,
      listeners: [...this.#served].map((served) => served.listener.address),
      connections: this.connectionCount,
      stopping: this.#stopping,
    };
    return `EventLoop ${inspect(state, { ...options, depth: 1 })}`;
  }

  // ---- ConnectionOwner ------------------------------------------------------------------------

  /** @internal Also used by a reactor worker for errors of its group (`connection` null). */
  reportError(error: Error, connection: Connection | null): void {
    this.#report(error, connection);
  }

  /** @internal */
  peerClosed(connection: Connection): void {
    const onDisconnect = this.options.onDisconnect;
    if (onDisconnect === null) return;
    try {
      onDisconnect(connection, connection.context);
    } catch (error) {
      this.#report(error instanceof Error ? error : new Error(String(error)), connection);
    }
  }

  /** @internal */
  finalized(connection: Connection): void {
    this.#connections.delete(connection);
    this.#closing.add(connection);
    if (this.#countCells !== null) {
      Atomics.store(this.#countCells, this.#countIndex, this.#connections.size);
    }
  }

  /** @internal */
  released(connection: Connection, cut: boolean): void {
    this.#closing.delete(connection);
    if (cut) this.#cut = true;
    this.#drained?.();
  }

  // ---- accept path ----------------------------------------------------------------------------

  #accept(fd: number, listener: Listener, reactor: Reactor): void {
    const connection = new Connection(reactor, fd, listener.network, this.options, this);
    this.#connections.add(connection);
    publishOpen(connection, 'server');
    if (this.#countCells !== null) {
      Atomics.store(this.#countCells, this.#countIndex, this.#connections.size);
    }
    if (this.#onRequest !== null) connection.setOnRequest(this.#onRequest);
    const { onPrepare, onConnect } = this.options;
    if (onPrepare !== null) {
      let context: unknown;
      try {
        context = onPrepare(connection);
      } catch (error) {
        this.#report(error instanceof Error ? error : new Error(String(error)), connection);
        connection.close();
        return;
      }
      connection.context = context;
      if (!connection.isActive()) return;
    }
    if (onConnect === null) return;
    connection.markConnecting();
    connection.runOnConnect(
      () => onConnect(connection, connection.context),
      (context) => {
        if (context !== undefined) connection.context = context;
        connection.markConnected();
      },
    );
  }

  #report(error: Error, connection: Connection | null): void {
    try {
      this.options.onError(error, connection);
    } catch {
      // An error hook that throws has nowhere left to report to; the process must not crash.
    }
  }
}
