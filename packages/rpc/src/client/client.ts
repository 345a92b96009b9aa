/**
 * `createClient(target, options)`: calls over the wire format to the endpoints a resolver names,
 * spread by a balancer, on mux or pool transports (see ClientOptions). A call's deadline travels
 * to the server; its signal aborts it; calls that provably never reached a handler move to
 * another endpoint transparently, and no others unless the caller marks them idempotent.
 */
import type { Buffer } from 'node:buffer';
import { runChain } from '../chain';
import { now } from '../clock';
import { DeadlineQueue } from '../deadline-queue';
import { clientCallChannel } from '../diagnostics';
import {
  canceledError,
  closedError,
  frameTooLargeError,
  InvalidArgumentError,
  type RpcError,
  serializationError,
} from '../errors';
import {
  type CallOptions,
  type ClientOptions,
  checkCallOptions,
  type ResolvedClientOptions,
  resolveClientOptions,
} from '../options';
import {
  checkPayload,
  encodeMetadata,
  encodeMethod,
  type Metadata,
  type Payload,
  payloadSize,
} from '../protocol/encode';
import { kFixedHeaderSize } from '../protocol/frame';
import { rawSerializer } from '../serializers';
import { CallCounters, type CallStats } from '../stats';
import { type Balancer, LeastPendingBalancer, RoundRobinBalancer } from './balancer';
import { Call, type CallHost, dropSettled, type IntoLease } from './call';
import {
  type Endpoint,
  type EndpointHost,
  type EndpointStats,
  MuxEndpoint,
  noEndpointError,
} from './endpoint';
import { PoolEndpoint } from './pool-endpoint';
import { type Resolver, resolveTarget } from './resolver';

/** What `client.stats()` reports. */
export interface ClientStats {
  readonly calls: CallStats;
  readonly endpoints: readonly EndpointStats[];
}

/** What a client interceptor sees of a call; `metadata` may be changed before it is sent. */
export interface ClientCallContext {
  readonly method: string;
  readonly request: unknown;
  metadata: Record<string, string>;
}

/**
 * Wraps every call of a client: `next()` sends it (with `context.metadata` as it is then) and
 * resolves with the response. Interceptors run in the order added.
 */
export type ClientInterceptor = (
  context: ClientCallContext,
  next: () => Promise<unknown>,
) => unknown;

/**
 * A promise's resolving functions, taken out by one shared executor: a closure per call over
 * the call's variables would be garbage on every call.
 */
const captured: { resolve: (value: unknown) => void; reject: (error: RpcError) => void } = {
  resolve: () => {},
  reject: () => {},
};
function capture(resolve: (value: unknown) => void, reject: (error: RpcError) => void): void {
  captured.resolve = resolve;
  captured.reject = reject;
}

export class RpcClient implements CallHost, EndpointHost {
  /** The resolved options (frozen). */
  readonly options: ResolvedClientOptions;
  readonly #resolver: Resolver;
  readonly #balancer: Balancer;
  readonly #endpoints = new Map<string, Endpoint>();
  #list: Endpoint[] = [];
  /**
   * Endpoints the resolver removed that still have connections (calls in flight on them): still
   * pinged, and destroyed by `destroy()`, until their last connection closes.
   */
  readonly #removed = new Set<Endpoint>();
  readonly #deadlines = new DeadlineQueue();
  readonly #counters = new CallCounters();
  readonly #methods = new Map<string, Buffer>();
  /** The last method called and its bytes: a caller in a loop calls one method (no Map lookup). */
  #lastMethod = '';
  #lastMethodBytes: Buffer | undefined;
  readonly #interceptors: ClientInterceptor[] = [];
  /** Calls made before the resolver's first answer. */
  #unresolved: Call[] = [];
  /** #unresolved's length at which the calls settled meanwhile are dropped from it. */
  #unresolvedLimit = 64;
  #resolved = false;
  #resolveError: Error | null = null;
  #closing: Promise<void> | null = null;
  #drained: (() => void) | null = null;
  #ticker: NodeJS.Timeout | null = null;
  /** #shutdown ran (once: destroy() during close() must not close the resolver twice). */
  #down = false;

  /** @internal Use {@link createClient}. */
  constructor(target: string | readonly string[] | Resolver, options?: ClientOptions) {
    this.options = resolveClientOptions(options);
    this.#resolver = resolveTarget(target);
    this.#balancer =
      this.options.balancer === 'least-pending'
        ? new LeastPendingBalancer()
        : new RoundRobinBalancer();
    this.#resolver.start(
      (addresses) => this.#update(addresses),
      (error) => {
        this.#resolveError = error;
        if (!this.#resolved) this.#update([]);
      },
    );
    const { pingInterval, pingTimeout } = this.options;
    const period = Math.max(20, Math.min(pingInterval || pingTimeout, pingTimeout) / 2);
    this.#ticker = setInterval(() => {
      const time = now();
      for (const endpoint of this.#list) endpoint.tick(time);
      for (const endpoint of this.#removed) {
        if (endpoint.drained) this.#removed.delete(endpoint);
        else endpoint.tick(time);
      }
    }, period);
    this.#ticker.unref();
  }

  /**
   * Calls `method` with `request` (encoded by the client's serializer) and resolves with the
   * decoded response. Rejects with an `RpcError`: `ERR_NETPOLL_RPC_TIMEOUT`, `…_CANCELED`,
   * `…_REMOTE` (the server's `remoteCode`/`remoteMessage`), `…_UNAVAILABLE`,
   * `…_POOL_EXHAUSTED`, `…_FRAME_TOO_LARGE`, `…_SERIALIZATION`, `…_CLOSED`; `processed` tells
   * whether the server may have run it. Bad arguments reject with `ERR_NETPOLL_INVALID_ARG`.
   */
  call(method: string, request: unknown, options?: CallOptions): Promise<unknown> {
    if (this.#interceptors.length > 0) return this.#intercepted(method, request, options, false);
    return this.#call(method, request, options, options?.metadata, false);
  }

  /**
   * Sends `method` with `request` without waiting for a reply (the server runs it and answers
   * nothing). Resolves once the request is written to a connection; rejects as `call()` does
   * before that (never with `…_REMOTE`).
   */
  oneWay(method: string, request: unknown, options?: CallOptions): Promise<void> {
    if (this.#interceptors.length > 0) {
      return this.#intercepted(method, request, options, true) as Promise<void>;
    }
    return this.#call(method, request, options, options?.metadata, true) as Promise<void>;
  }

  /** Adds an interceptor around every call (see `ClientInterceptor`). Returns the client. */
  use(interceptor: ClientInterceptor): this {
    if (typeof interceptor !== 'function') {
      throw new InvalidArgumentError('interceptor', 'a function', interceptor);
    }
    this.#interceptors.push(interceptor);
    return this;
  }

  #intercepted(
    method: string,
    request: unknown,
    options: CallOptions | undefined,
    oneWay: boolean,
  ): Promise<unknown> {
    const context: ClientCallContext = {
      method,
      request,
      metadata: { ...(options?.metadata ?? {}) },
    };
    // An interceptor may call next() more than once (a hedge, a retry), or settle without
    // waiting for it: one reply at most is copied into `into`, and none after the caller has it.
    const lease: IntoLease | null = options?.into === undefined ? null : { open: true };
    const result = runChain(this.#interceptors, context, () =>
      this.#call(method, request, options, context.metadata, oneWay, lease),
    );
    if (lease === null) return result;
    // Closed before the caller's own reactions run (an unhandled rejection stays unhandled).
    return result.then(
      (value) => {
        lease.open = false;
        return value;
      },
      (error: unknown) => {
        lease.open = false;
        throw error;
      },
    );
  }

  #call(
    method: string,
    request: unknown,
    options: CallOptions | undefined,
    metadata: Metadata | undefined,
    oneWay: boolean,
    lease: IntoLease | null = null,
  ): Promise<unknown> {
    if (this.#closing !== null) return Promise.reject(closedError('client'));
    let methodBytes =
      method === this.#lastMethod ? this.#lastMethodBytes : this.#methods.get(method);
    let payload: Payload;
    let encodedMetadata: Buffer | null = null;
    try {
      if (options !== undefined) checkCallOptions(options);
      if (methodBytes === undefined) {
        methodBytes = encodeMethod(method, 'method');
        this.#methods.set(method, methodBytes);
      }
      if (method !== this.#lastMethod) {
        this.#lastMethod = method;
        this.#lastMethodBytes = methodBytes;
      }
      encodedMetadata = encodeMetadata(metadata, 'options.metadata');
    } catch (error) {
      return Promise.reject(error);
    }
    try {
      payload = this.options.serializer.encode(request);
      checkPayload(payload, 'the encoded request');
    } catch (error) {
      return Promise.reject(serializationError(`encode the request of ${method}`, error));
    }
    const into = options?.into ?? null;
    if (into !== null && this.options.serializer !== rawSerializer) {
      return Promise.reject(
        new InvalidArgumentError('options.into', 'used only with the raw serializer', into),
      );
    }
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(canceledError(method, signal.reason, false));
    const timeout = options?.timeout ?? this.options.timeout;
    // Checked here as well as when written: a call that waits for a connection is written from a
    // dial callback, where the throw would strand it and the calls queued behind it.
    const bodySize = payloadSize(payload);
    const size =
      kFixedHeaderSize +
      1 +
      methodBytes.length +
      (timeout > 0 ? 4 : 0) +
      (encodedMetadata === null ? 0 : encodedMetadata.length) +
      bodySize;
    if (size > this.options.maxFrameSize) {
      return Promise.reject(frameTooLargeError(size, this.options.maxFrameSize));
    }
    const promise = new Promise(capture);
    const call = new Call(
      this,
      method,
      methodBytes,
      payload,
      bodySize,
      encodedMetadata,
      timeout,
      oneWay,
      options?.idempotent === true,
      this.options.serializer,
      into,
      lease,
      captured.resolve,
      captured.reject,
    );
    this.#counters.started++;
    // Calls in flight keep the process alive, as Node's pending I/O does: a call waiting out a
    // re-dial backoff or the resolver has no socket, and the client's timers are unref'd.
    if (++this.#counters.inFlight === 1) this.#ticker?.ref();
    if (call.deadline !== Number.POSITIVE_INFINITY) this.#deadlines.add(call, call.timeout);
    if (signal !== undefined) call.watch(signal);
    if (clientCallChannel.hasSubscribers) {
      call.trace = { method, request, metadata, endpoint: null, attempt: 0 };
      clientCallChannel.start.publish(call.trace);
    }
    // Dispatched in the same tick it was made: its start time is still the time.
    this.dispatch(call, call.startedAt);
    return promise;
  }

  /**
   * @internal CallHost/EndpointHost: picks an endpoint for the call and sends it there (`time`:
   * the monotonic ms now, when the caller has it).
   */
  dispatch(call: Call, time?: number): void {
    if (call.finished) return;
    if (this.#closing !== null && this.#drained === null) {
      call.fail(closedError('client'));
      return;
    }
    if (!this.#resolved) {
      this.#queueUnresolved(call);
      return;
    }
    const endpoint = this.#pick(call);
    if (endpoint === null) {
      let cause: Error | undefined = this.#resolveError ?? undefined;
      for (const candidate of this.#list) cause = candidate.lastError ?? cause;
      const error = noEndpointError(call, cause);
      // On the next turn of the event loop, not now: a caller retrying at once in a loop would
      // otherwise run on microtasks alone, and the timers and I/O that bring an endpoint back
      // (re-dials, the resolver) would never run.
      setImmediate(() => call.fail(error));
      return;
    }
    call.endpoint = endpoint;
    if (call.trace !== null) {
      call.trace.endpoint = endpoint.address;
      call.trace.attempt = call.attempts + 1;
    }
    try {
      endpoint.send(call, time);
    } catch (error) {
      call.fail(error as RpcError);
    }
  }

  /**
   * The endpoint for `call`. A call dispatched again (a retry after its connection failed, a
   * GOAWAY, an UNAVAILABLE refusal, a failed dial it waited for) goes to another endpoint that
   * takes calls now, when there is one: the one it leaves may still have a connection that looks
   * usable — a hung server's second connection, not yet found out — and a retry there would
   * likely fail again, or wait out the rest of the call's deadline.
   */
  #pick(call: Call): Endpoint | null {
    const list = this.#list;
    // One endpoint: the balancers could only return it (a call waits there for a connection),
    // and asking whether it is ready would look at each of its connections per call.
    if (list.length === 1) return list[0]!.ejected ? null : list[0]!;
    const previous = call.endpoint;
    if (previous !== null) {
      const others = list.filter(
        (endpoint) => endpoint !== previous && endpoint.ready && !endpoint.ejected,
      );
      if (others.length > 0) return this.#balancer.pick(others);
    }
    return this.#balancer.pick(list);
  }

  /**
   * Waits for the resolver's first answer. Calls that settle meanwhile (deadline, abort) are
   * dropped once the queue doubles, so a resolver that never answers holds no settled calls.
   */
  #queueUnresolved(call: Call): void {
    const queue = this.#unresolved;
    if (queue.length >= this.#unresolvedLimit) {
      dropSettled(queue);
      this.#unresolvedLimit = Math.max(64, queue.length * 2);
    }
    queue.push(call);
  }

  /** @internal EndpointHost */
  redispatch(call: Call): void {
    this.dispatch(call);
  }

  /** @internal CallHost: the call settled. */
  ended(call: Call, error: RpcError | null, time = now()): void {
    this.#deadlines.remove(call);
    this.#counters.finish(error === null ? null : error.code, time - call.startedAt);
    if (this.#counters.inFlight === 0) this.#ticker?.unref();
    if (this.#drained !== null && this.#counters.inFlight === 0) this.#drained();
  }

  #update(addresses: readonly string[]): void {
    if (this.#closing !== null && this.#drained === null) return;
    const next = new Map<string, Endpoint>();
    for (const address of addresses) {
      const endpoint =
        this.#endpoints.get(address) ??
        (this.options.transport === 'pool'
          ? new PoolEndpoint(address, this)
          : new MuxEndpoint(address, this));
      next.set(address, endpoint);
    }
    const removed: Endpoint[] = [];
    for (const [address, endpoint] of this.#endpoints) {
      if (!next.has(address)) removed.push(endpoint);
    }
    this.#endpoints.clear();
    for (const [address, endpoint] of next) this.#endpoints.set(address, endpoint);
    this.#list = [...next.values()];
    this.#resolved = true;
    // Closed once the new list is in place: the calls waiting at a removed endpoint are
    // dispatched again, and must find the endpoints that remain, not the one they leave.
    for (const endpoint of removed) {
      endpoint.close('removed');
      if (!endpoint.drained) this.#removed.add(endpoint);
    }
    const waiting = this.#unresolved;
    this.#unresolved = [];
    for (const call of waiting) this.dispatch(call);
  }

  /** Calls (started, succeeded, failed by code, in flight, latency in ms) and each endpoint. */
  stats(): ClientStats {
    return {
      calls: this.#counters.snapshot(),
      endpoints: this.#list.map((endpoint) => endpoint.stats()),
    };
  }

  /**
   * Graceful: refuses new calls (`ERR_NETPOLL_RPC_CLOSED`), waits for the calls in flight to
   * settle (each within its own deadline), then closes every connection. Idempotent.
   */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#closing = new Promise<void>((resolve) => {
      const finish = (): void => {
        this.#drained = null;
        this.#shutdown(null);
        resolve();
      };
      if (this.#counters.inFlight === 0) finish();
      else this.#drained = finish;
    });
    return this.#closing;
  }

  /** Abrupt: fails every call in flight with `ERR_NETPOLL_RPC_CLOSED` and closes everything. */
  destroy(): void {
    const drained = this.#drained;
    this.#closing ??= Promise.resolve();
    this.#drained = null;
    this.#shutdown(closedError('client'));
    // A close() waiting for the calls just failed is done: resolve its promise.
    drained?.();
  }

  /** `await using client = createClient(…)`: `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #shutdown(error: RpcError | null): void {
    if (this.#down) return;
    this.#down = true;
    if (this.#ticker !== null) clearInterval(this.#ticker);
    this.#ticker = null;
    this.#resolver.close();
    this.#deadlines.stop();
    for (const call of this.#unresolved.splice(0)) call.fail(closedError('client'));
    const endpoints = [...this.#list, ...this.#removed];
    for (const endpoint of endpoints) endpoint.close('closed');
    if (error !== null) {
      for (const endpoint of endpoints) endpoint.destroy(error);
    }
  }
}

/**
 * Creates a client for `target`: one address (`"host:port"` or a Unix socket path), a list of
 * them, `"dns:host:port"` (every address the name resolves to, refreshed every 30 s), or a
 * `Resolver`. Throws `ERR_NETPOLL_INVALID_ARG` / `ERR_NETPOLL_OUT_OF_RANGE` for bad arguments;
 * it dials lazily, on the first call.
 */
export function createClient(
  target: string | readonly string[] | Resolver,
  options?: ClientOptions,
): RpcClient {
  return new RpcClient(target, options);
}
