/**
 * The `netpoll-*` stacks: @netpoll/rpc's server (an `echo` handler, the default raw Buffer
 * serializer) and its client over the mux or pool transport, each call with its own timeout and
 * its reply read into the caller's own Buffer (`into`).
 */
import { createClient, createServer, type RpcClient } from '@netpoll/rpc';

/** The client transports the bench runs. */
export type NetpollTransport =
  | { readonly transport: 'mux'; readonly connections: number }
  | {
      readonly transport: 'pool';
      readonly pool: { readonly maxActive: number; readonly maxIdle?: number };
    };

/** A running @netpoll/rpc echo server. */
export interface NetpollEchoServer {
  /** 'host:port'. */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * Starts @netpoll/rpc's server with an `echo` method on `host:0` (127.0.0.1 by default), calling
 * `onCall` per call.
 */
export async function startNetpollEchoServer({
  host = '127.0.0.1',
  onCall = () => {},
}: {
  readonly host?: string;
  readonly onCall?: () => void;
} = {}): Promise<NetpollEchoServer> {
  const server = createServer({
    echo: (request: Buffer) => {
      onCall();
      return request;
    },
  });
  await server.listen(`${host}:0`);
  return {
    address: server.address,
    close: async () => {
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

  /** A client of `address` ('host:port') over `transport` (it dials on the first call). */
  static connect(address: string, transport: NetpollTransport): NetpollEchoClient {
    return new NetpollEchoClient(createClient(address, transport));
  }

  /** The reply lands in `into` (no allocation per call), as a caller that reuses a Buffer does. */
  call(payload: Buffer, timeoutMs: number, into: Buffer): Promise<Buffer> {
    return this.#client.call('echo', payload, { timeout: timeoutMs, into }) as Promise<Buffer>;
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}
