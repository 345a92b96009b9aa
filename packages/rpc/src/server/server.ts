/**
 * `createServer(service, options)`: an RPC server on `@netpoll/core`'s EventLoop with native
 * framing. A service object runs in the calling thread; a service module path runs in
 * `options.reactors` worker threads, each loading the module (README "Multi-core").
 */
import { randomUUID } from 'node:crypto';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BroadcastChannel } from 'node:worker_threads';
import { createListener, EventLoop, type Listener, type ShutdownResult } from '@netpoll/core';
import { closedError, InvalidArgumentError, serviceLoadError } from '../errors';
import {
  type ResolvedServerOptions,
  resolveServerOptions,
  type ServerOptions,
  timeoutOption,
} from '../options';
import { CallCounters, type CallStats, type CounterState } from '../stats';
import { type Interceptor, ServerCore } from './server-core';
import type { Service } from './service';

/** What `server.stats()` reports. */
export interface ServerStats {
  /** Open connections. */
  readonly connections: number;
  /** Calls started, succeeded, failed (by code), in flight, and their latency in ms. */
  readonly calls: CallStats;
}

/** A stats request and reply between the main thread and the reactor threads. */
export interface StatsMessage {
  type: 'stats' | 'stats-reply';
  id: number;
  state?: CounterState;
}

/**
 * What `server.close()` resolves with: `complete` is false when its timeout closed connections
 * with calls still running or replies not yet delivered (those clients see the connection close).
 */
export type CloseResult = ShutdownResult;

/** Options of `server.close(options)`. */
export interface CloseOptions {
  /** How long calls in flight may finish, in ms. Default: the server's `shutdownTimeout`. */
  timeout?: number;
  /** Aborting it closes what is left at once (the promise then rejects with an `AbortError`). */
  signal?: AbortSignal;
}

const kReactorHandler = join(__dirname, 'reactor-handler.js');

function modulePath(service: unknown): string | null {
  if (service instanceof URL || (typeof service === 'string' && service.startsWith('file:'))) {
    return fileURLToPath(service);
  }
  if (typeof service === 'string') {
    if (!isAbsolute(service)) {
      throw new InvalidArgumentError(
        'service',
        'a service object or an absolute module path',
        service,
      );
    }
    return service;
  }
  return null;
}

export class RpcServer {
  /** The resolved options (frozen). */
  readonly options: ResolvedServerOptions;
  readonly #core: ServerCore | null;
  readonly #module: string | null;
  #loop: EventLoop | null = null;
  #listener: Listener | null = null;
  #served: Promise<void> | null = null;
  #closing: Promise<CloseResult> | null = null;
  #statsChannel: BroadcastChannel | null = null;
  readonly #statsName: string;
  /** With a service module: the options as the reactor threads get them (clone-safe). */
  readonly #moduleOptions: ServerOptions | null;

  /** @internal Use {@link createServer}. */
  constructor(service: Service | string | URL, options?: ServerOptions) {
    this.options = resolveServerOptions(options);
    this.#module = modulePath(service);
    this.#statsName = `netpoll-rpc-stats-${randomUUID()}`;
    if (this.#module === null) {
      if (this.options.reactors > 1) {
        throw new InvalidArgumentError(
          'service',
          'a module path when options.reactors > 1 (each reactor thread loads it)',
          service,
        );
      }
      this.#core = new ServerCore(service, this.options);
      this.#moduleOptions = null;
    } else {
      if (typeof (options as ServerOptions | undefined)?.serializer === 'object') {
        throw new InvalidArgumentError(
          'options.serializer',
          "'raw' or 'json' with a service module (a serializer object cannot reach the reactor threads; give the methods their serializers in the module)",
          options?.serializer,
        );
      }
      this.#core = null;
      const { serializer: _serializer, ...rest } = this.options;
      this.#moduleOptions = {
        ...rest,
        serializer: (options?.serializer ?? 'raw') as 'raw' | 'json',
      };
    }
  }

  /**
   * Adds an interceptor around every call (applied in the order added; see `Interceptor`). Only
   * before `listen()`, and only for a service object: a service module exports its own
   * `interceptors` array. Returns the server.
   */
  use(interceptor: Interceptor): this {
    if (typeof interceptor !== 'function') {
      throw new InvalidArgumentError('interceptor', 'a function', interceptor);
    }
    if (this.#core === null) {
      throw new InvalidArgumentError(
        'interceptor',
        'exported by the service module (interceptors) when the service is a module',
        interceptor,
      );
    }
    if (this.#loop !== null) {
      throw new InvalidArgumentError('interceptor', 'added before listen()', interceptor);
    }
    this.#core.interceptors.push(interceptor);
    return this;
  }

  /**
   * Starts serving on `address` — `"host:port"` (port 0 picks one), a Unix socket path
   * (absolute, or `unix:` + path) — or on a `Listener` from `@netpoll/core`. Resolves once every
   * reactor accepts. Rejects as `createListener` and `EventLoop.serve` do
   * (`ERR_NETPOLL_HANDLER_LOAD` when the service module cannot be loaded); a second call
   * rejects with `ERR_NETPOLL_INVALID_ARG`.
   */
  async listen(address: string | Listener): Promise<void> {
    if (this.#loop !== null) throw new InvalidArgumentError('listen', 'called once', address);
    if (this.#closing !== null) throw closedError('server');
    const options = this.options;
    const reuse = this.#module !== null && options.reactors > 1;
    let listener: Listener;
    if (typeof address === 'string') {
      const unix = address.startsWith('unix:') || address.startsWith('/');
      // The reactors share the port (SO_REUSEPORT), and so would any other process whose sockets
      // set it too (a second copy of this server): make sure the port is free first, so that one
      // fails with EADDRINUSE, as it does with one reactor, instead of taking half the traffic.
      if (reuse && !unix && !address.endsWith(':0')) createListener('tcp', address).close();
      listener = createListener(
        unix ? 'unix' : 'tcp',
        unix ? address.replace(/^unix:/, '') : address,
        {
          backlog: options.backlog,
          reusePort: reuse && !unix,
        },
      );
    } else {
      listener = address;
    }
    const framing = { lengthHeader: options.lengthHeader, maxFrameSize: options.maxFrameSize };
    const connection = {
      idleTimeout: options.idleTimeout,
      writeTimeout: options.writeTimeout,
      framing,
    };
    const core = this.#core;
    this.#loop =
      core !== null
        ? new EventLoop(core.onRequest, {
            ...connection,
            onConnect: core.onConnect,
            onError: core.onError,
          })
        : new EventLoop(null, {
            ...connection,
            reactors: options.reactors,
            handler: kReactorHandler,
            handlerData: {
              module: this.#module,
              options: this.#moduleOptions,
              stats: this.#statsName,
            },
          });
    this.#listener = listener;
    this.#served = this.#loop.serve(listener);
    this.#served.catch(() => {});
    try {
      await Promise.race([this.#loop.whenAccepting(listener), this.#served]);
    } catch (error) {
      // A failed serve() leaves the listener open: the one made from `address` is ours to close.
      if (typeof address === 'string') listener.close();
      if (
        this.#module !== null &&
        (error as { code?: string })?.code === 'ERR_NETPOLL_HANDLER_LOAD'
      ) {
        throw serviceLoadError(this.#module, error as Error);
      }
      throw error;
    }
  }

  /** The address it listens on (`"127.0.0.1:40123"` with the real port, or the path). */
  get address(): string {
    if (this.#listener === null)
      throw new InvalidArgumentError('address', 'read after listen()', null);
    return this.#listener.address;
  }

  /**
   * Graceful stop: no new connections; each connection answers every request it had read —
   * later ones get nothing, after a GOAWAY that tells the client which seq was the last, so it
   * can send them elsewhere — then closes, lingering until the client has every reply. At
   * `timeout` (default `shutdownTimeout`) what is left is closed. Idempotent. Resolves with
   * `{ complete }`: false when the timeout had to close calls or replies still under way.
   */
  close(options?: CloseOptions): Promise<CloseResult> {
    if (this.#closing !== null) return this.#closing;
    const timeout = timeoutOption(
      options?.timeout,
      'options.timeout',
      this.options.shutdownTimeout,
    );
    const loop = this.#loop;
    this.#closing =
      loop === null
        ? Promise.resolve({ complete: true })
        : loop.shutdown({ timeout, signal: options?.signal }).finally(() => {
            this.#core?.deadlines.stop();
            this.#statsChannel?.close();
          });
    return this.#closing;
  }

  /** `await using server = createServer(…)`: `close()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    // `AsyncDisposable` wants a promise of nothing: `close()` says whether the close was complete.
    await this.close();
  }

  /**
   * Connections and calls (started, succeeded, failed by code, in flight, latency percentiles),
   * summed over every reactor thread.
   */
  async stats(): Promise<ServerStats> {
    const loop = this.#loop;
    const connections = loop?.connectionCount ?? 0;
    if (this.#core !== null) return { connections, calls: this.#core.counters.snapshot() };
    const total = new CallCounters();
    if (loop === null || this.#closing !== null) return { connections, calls: total.snapshot() };
    this.#statsChannel ??= new BroadcastChannel(this.#statsName);
    const channel = this.#statsChannel;
    const id = Math.random();
    const replies = await new Promise<CounterState[]>((resolve) => {
      const states: CounterState[] = [];
      const done = (): void => {
        clearTimeout(timer);
        channel.onmessage = () => {};
        resolve(states);
      };
      // A reactor that is gone (crashed, restarting) does not answer: report the others.
      const timer = setTimeout(done, 1000);
      channel.onmessage = (event: unknown) => {
        const message = (event as { data: StatsMessage }).data;
        if (message.type !== 'stats-reply' || message.id !== id || message.state === undefined) {
          return;
        }
        states.push(message.state);
        if (states.length === this.options.reactors) done();
      };
      channel.postMessage({ type: 'stats', id } satisfies StatsMessage);
    });
    for (const state of replies) total.merge(state);
    return { connections, calls: total.snapshot() };
  }
}

/**
 * Creates an RPC server. `service` maps method names to handlers
 * (`async (request, context) => response`) or `{ handler, requestSerializer,
 * responseSerializer }`; or it is the absolute path of a module that exports `service` (and
 * optionally `interceptors`), loaded by each of `options.reactors` worker threads. Throws
 * `ERR_NETPOLL_INVALID_ARG` / `ERR_NETPOLL_OUT_OF_RANGE` for bad arguments.
 */
export function createServer(service: Service | string | URL, options?: ServerOptions): RpcServer {
  return new RpcServer(service, options);
}
