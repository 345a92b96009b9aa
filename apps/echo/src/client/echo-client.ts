/**
 * The typed client of the Echo service: `call(method, request)` takes and returns the types of
 * {@link EchoApi}, over `@netpoll/rpc`'s client with the JSON serializer (the server's). It adds
 * nothing else: every option, retry rule and error code is the rpc client's.
 */
import {
  type CallOptions,
  type ClientOptions,
  type ClientStats,
  createClient,
  type Resolver,
  type RpcClient,
} from '@netpoll/rpc';
import type { EchoMethod, RequestOf, ResponseOf } from '../service/echo-api';

/** The rpc client's options, less the serializer (always JSON, as the server's). */
export type EchoClientOptions = Omit<ClientOptions, 'serializer'>;

export class EchoClient {
  readonly #client: RpcClient;

  constructor(target: string | readonly string[] | Resolver, options: EchoClientOptions = {}) {
    this.#client = createClient(target, { ...options, serializer: 'json' });
  }

  /** Calls `method`; rejects with an `RpcError` (`code`, `remoteCode`, `processed`). */
  call<M extends EchoMethod>(
    method: M,
    request: RequestOf<M>,
    options?: CallOptions,
  ): Promise<ResponseOf<M>> {
    return this.#client.call(method, request, options) as Promise<ResponseOf<M>>;
  }

  echo(request: RequestOf<'echo'>, options?: CallOptions): Promise<ResponseOf<'echo'>> {
    return this.call('echo', request, options);
  }

  hash(request: RequestOf<'hash'>, options?: CallOptions): Promise<ResponseOf<'hash'>> {
    return this.call('hash', request, options);
  }

  sleep(request: RequestOf<'sleep'>, options?: CallOptions): Promise<ResponseOf<'sleep'>> {
    return this.call('sleep', request, options);
  }

  health(options?: CallOptions): Promise<ResponseOf<'health'>> {
    return this.call('health', {}, options);
  }

  /** The rpc client's counters (calls by outcome, latency, endpoints). */
  stats(): ClientStats {
    return this.#client.stats();
  }

  /** Waits for calls in flight, then closes the connections. */
  close(): Promise<void> {
    return this.#client.close();
  }

  /** Fails calls in flight at once and closes. */
  destroy(): void {
    this.#client.destroy();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** A client of the Echo service at `target` (`"host:port"`, a list, `"dns:host:port"`). */
export function createEchoClient(
  target: string | readonly string[] | Resolver,
  options?: EchoClientOptions,
): EchoClient {
  return new EchoClient(target, options);
}

/** The code that says what went wrong: the server's own code for a remote error, else the client's. */
export function errorCode(error: unknown): string {
  const { code, remoteCode } = (error ?? {}) as { code?: unknown; remoteCode?: unknown };
  if (code === 'ERR_NETPOLL_RPC_REMOTE' && typeof remoteCode === 'string') return remoteCode;
  return typeof code === 'string' ? code : 'ERROR';
}

/**
 * One line for a failed call: `ERR_NETPOLL_RPC_REMOTE INVALID_ARGUMENT: sleep: ms must be …
 * (not processed: safe to retry)`. `processed` is the rpc client's word on whether the server may
 * have run the handler.
 */
export function describeCallError(error: unknown): string {
  const { code, remoteCode, remoteMessage, message, processed } = (error ?? {}) as {
    code?: string;
    remoteCode?: string;
    remoteMessage?: string;
    message?: string;
    processed?: boolean;
  };
  const codes = remoteCode === undefined ? (code ?? 'ERROR') : `${code} ${remoteCode}`;
  const text = remoteMessage === undefined || remoteMessage === '' ? message : remoteMessage;
  const outcome = processed === false ? 'not processed: safe to retry' : 'may have been processed';
  return `${codes}: ${text ?? String(error)} (${outcome})`;
}
