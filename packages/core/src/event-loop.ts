/**
 * The server: netpoll's `EventLoop` (`eventloop.go`, `netpoll_server.go`, Apache-2.0; re-designed).
 *
 * Callback order per connection (netpoll §1.4): `onPrepare` (sync, may close) → `onConnect` (may
 * be async) → `onRequest` … (serial, re-run while input remains) → `onDisconnect` (peer close
 * only) → close callbacks (newest first). A throwing or rejecting callback closes only its own
 * connection and reaches `onError`; nothing a peer or a handler does can crash the process.
 */
import { Connection } from './connection';
import type { ConnectionOwner } from './connection-owner';
import { closedError, InvalidArgumentError } from './errors';
import { getReactor } from './get-reactor';
import type { Listener } from './listener';
import {
  type EventLoopOptions,
  type OnRequest,
  type ResolvedEventLoopOptions,
  resolveEventLoopOptions,
  resolveShutdownOptions,
  type ShutdownOptions,
} from './options';
import type { Reactor, ReactorListener } from './reactor';
import { systemError } from './system-error';

interface Served {
  listener: Listener;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class EventLoop implements ConnectionOwner {
  /** The resolved options (frozen). */
  readonly options: ResolvedEventLoopOptions;
  readonly #onRequest: OnRequest | null;
  readonly #reactor: Reactor;
  readonly #served = new Set<Served>();
  readonly #connections = new Set<Connection>();
  #shutdown: Promise<void> | null = null;
  #stopping = false;
  #drained: (() => void) | null = null;

  /**
   * @param onRequest the per-connection handler (may be `null`, as in netpoll's stream examples
   *   that only use `onConnect`). It receives the connection and its context; it may return a
   *   promise, and the next call for that connection waits for it.
   * @param options see {@link EventLoopOptions}; validated here, once.
   * Throws `ERR_NETPOLL_INVALID_ARG` / `ERR_NETPOLL_OUT_OF_RANGE`, and loads the addon on first use
   * (`ERR_NETPOLL_BINDING_LOAD`).
   */
  constructor(onRequest: OnRequest | null, options?: EventLoopOptions) {
    if (onRequest !== null && onRequest !== undefined && typeof onRequest !== 'function') {
      throw new InvalidArgumentError('onRequest', 'a function or null', onRequest);
    }
    this.options = resolveEventLoopOptions(options);
    this.#onRequest = onRequest ?? null;
    this.#reactor = getReactor();
  }

  /** Open connections accepted by this loop. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * Starts accepting on `listener`. The promise resolves when `shutdown()` stops the loop and
   * rejects with `ERR_NETPOLL_CLOSED` when the listener is closed from outside. Throws
   * (rejects) `ERR_NETPOLL_CLOSED` after `shutdown()`.
   */
  serve(listener: Listener): Promise<void> {
    if (this.#stopping) return Promise.reject(closedError('event loop'));
    if (listener.closed) return Promise.reject(closedError('listener'));
    for (const served of this.#served) {
      if (served.listener === listener) {
        return Promise.reject(
          new InvalidArgumentError('listener', 'a listener this loop does not serve yet', listener),
        );
      }
    }
    return new Promise<void>((resolve, reject) => {
      const served: Served = { listener, resolve, reject };
      this.#served.add(served);
      listener.setCloseHook(() => {
        this.#served.delete(served);
        this.#reactor.detachListener(listener.fd, handle);
        if (!this.#stopping) reject(closedError('listener'));
        else resolve();
      });
      const handle: ReactorListener = {
        onAccept: (fd) => this.#accept(fd, listener),
        onAcceptError: (errno) => this.#report(systemError(errno, 'accept'), null),
      };
      const reactor = this.#reactor;
      const framing = this.options.framing;
      if (framing !== null) {
        reactor.inbound.ensureFrameCapacity(framing.lengthHeader + framing.maxFrameSize);
        reactor.countCall();
        reactor.binding.setFraming(listener.fd, framing.lengthHeader, framing.maxFrameSize);
      }
      reactor.attachListener(listener.fd, handle);
      reactor.countCall();
      reactor.binding.setReading(listener.fd, 1);
    });
  }

  /**
   * Graceful stop (netpoll §3.6, plus a deadline): stops accepting and closes the listeners, closes
   * idle connections, lets running handlers finish for up to `options.timeout` ms, then closes the
   * rest. Resolves when every connection is closed; a second call returns the same promise.
   */
  shutdown(options?: ShutdownOptions): Promise<void> {
    if (this.#shutdown !== null) return this.#shutdown;
    const { timeout } = resolveShutdownOptions(options);
    this.#stopping = true;
    this.#shutdown = new Promise<void>((resolve) => {
      for (const served of [...this.#served]) served.listener.close();
      let timer: NodeJS.Timeout | null = null;
      this.#drained = () => {
        if (timer !== null) clearTimeout(timer);
        this.#drained = null;
        resolve();
      };
      for (const connection of [...this.#connections]) {
        if (connection.idle) connection.close();
      }
      if (this.#connections.size === 0) {
        this.#drained();
        return;
      }
      timer = setTimeout(() => {
        for (const connection of [...this.#connections]) connection.destroy();
      }, timeout);
    });
    return this.#shutdown;
  }

  // ---- ConnectionOwner ------------------------------------------------------------------------

  /** @internal */
  reportError(error: Error, connection: Connection): void {
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
  idle(connection: Connection): void {
    if (this.#stopping && connection.idle) connection.close();
  }

  /** @internal */
  finalized(connection: Connection): void {
    this.#connections.delete(connection);
    if (this.#connections.size === 0) this.#drained?.();
  }

  // ---- accept path ----------------------------------------------------------------------------

  #accept(fd: number, listener: Listener): void {
    const connection = new Connection(this.#reactor, fd, listener.network, this.options, this);
    this.#connections.add(connection);
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
