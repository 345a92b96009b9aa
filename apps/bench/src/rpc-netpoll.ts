/**
 * The `netpoll-*` stacks: @netpoll/rpc's server (echo handler, raw Buffer serializer) and its
 * client over the mux or pool transport.
 *
 * The API is the one @netpoll/rpc is being written to (createServer/listen/address/close,
 * createClient/call/close). It is looked up when a netpoll stack is first used, so this package
 * builds and its other stacks run against a build of @netpoll/rpc that does not export it yet;
 * `netpollRpcAvailable()` says whether it does.
 */
import * as rpc from '@netpoll/rpc';

/** @netpoll/rpc's server, as the bench uses it. */
interface RpcServer {
  listen(address: string): Promise<unknown>;
  readonly address: string;
  close(): Promise<unknown>;
}

/** @netpoll/rpc's client, as the bench uses it. */
interface RpcClient {
  call(method: string, payload: Buffer, options: { timeout: number }): Promise<Buffer>;
  close(): Promise<unknown>;
}

/** The client transports the bench runs. */
export type NetpollTransport =
  | { readonly transport: 'mux'; readonly connections: number }
  | { readonly transport: 'pool'; readonly pool: { readonly maxActive: number } };

interface RpcApi {
  createServer(handlers: Record<string, (request: Buffer) => Buffer>): RpcServer;
  createClient(address: string, options: NetpollTransport): RpcClient;
}

/** True when the installed @netpoll/rpc exports createServer and createClient. */
export function netpollRpcAvailable(): boolean {
  const api = rpc as unknown as Partial<RpcApi>;
  return typeof api.createServer === 'function' && typeof api.createClient === 'function';
}

function api(): RpcApi {
  if (!netpollRpcAvailable()) {
    throw new Error(
      "this build of @netpoll/rpc does not export createServer and createClient; the netpoll stacks need them (rebuild after @netpoll/rpc's server and client land)",
    );
  }
  return rpc as unknown as RpcApi;
}

/** A running @netpoll/rpc echo server. */
export interface NetpollEchoServer {
  /** 'host:port'. */
  readonly address: string;
  close(): Promise<void>;
}

/** Starts @netpoll/rpc's server with an `echo` method on `host:0`. */
export async function startNetpollEchoServer(host = '127.0.0.1'): Promise<NetpollEchoServer> {
  const server = api().createServer({ echo: (request: Buffer) => request });
  await server.listen(`${host}:0`);
  return {
    address: server.address,
    async close() {
      await server.close();
    },
  };
}

/** A @netpoll/rpc client calling `echo`. */
export class NetpollEchoClient {
  readonly #client: RpcClient;

  private constructor(client: RpcClient) {
    this.#client = client;
  }

  /** A client of `address` ('host:port') over `transport`. */
  static connect(address: string, transport: NetpollTransport): NetpollEchoClient {
    return new NetpollEchoClient(api().createClient(address, transport));
  }

  call(payload: Buffer, timeoutMs: number): Promise<Buffer> {
    return this.#client.call('echo', payload, { timeout: timeoutMs });
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}
