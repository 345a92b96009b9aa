/**
 * The `starter` stack: apps/echo's RPC starter as it ships — `startRpcServer` (the Echo service
 * loaded by one reactor thread, its failure logging at `--log-level warn` (the per-call logging
 * interceptor is only installed at `debug`), per-reactor metrics and the operations port), called
 * with its typed client (`@netpoll/rpc`'s client, JSON serializer, mux transport).
 *
 * The starter's `echo` takes and returns `{ message }` as JSON, so a payload of N bytes travels as
 * a message of N ASCII characters (`{"message":"…"}`, 14 bytes more on the wire) and both sides
 * parse and build JSON on every call: strictly more work per call than the raw-bytes `echo` of
 * the other stacks. The caller loop still hands it Buffers and compares what comes back.
 */
import {
  createEchoClient,
  createLogger,
  type EchoClient,
  parseServerConfig,
  type RunningRpcServer,
  startRpcServer,
} from '@netpoll/app-echo';

const kAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The message a payload travels as: one ASCII character per byte (its low 6 bits). */
export function messageOf(payload: Buffer): string {
  let text = '';
  for (const byte of payload) text += kAlphabet[byte & 63];
  return text;
}

/** Starts the starter's server on 127.0.0.1 (RPC and operations ports chosen by the kernel). */
export async function startStarterServer(): Promise<{
  readonly address: string;
  close(): Promise<void>;
}> {
  const config = parseServerConfig(
    ['--port', '0', '--metrics-port', '0', '--reactors', '1', '--log-level', 'warn'],
    {},
  );
  const server: RunningRpcServer = await startRpcServer(
    config,
    createLogger(config.logLevel, 'echo'),
  );
  return {
    address: server.address,
    close: async () => {
      await server.close();
    },
  };
}

/** The starter's client as the bench's callers drive it. */
export class StarterEchoClient {
  readonly #client: EchoClient;
  // Each caller reuses one payload: its message is built once.
  readonly #messages = new WeakMap<Buffer, string>();

  private constructor(client: EchoClient) {
    this.#client = client;
  }

  /** A client of `address` over `connections` mux connections (it dials on the first call). */
  static connect(address: string, connections: number): StarterEchoClient {
    return new StarterEchoClient(createEchoClient(address, { transport: 'mux', connections }));
  }

  /** Resolves with `payload` itself when the reply's message is the request's, else with the reply's. */
  async call(payload: Buffer, timeoutMs: number): Promise<Buffer> {
    let message = this.#messages.get(payload);
    if (message === undefined) {
      message = messageOf(payload);
      this.#messages.set(payload, message);
    }
    const reply = await this.#client.echo({ message }, { timeout: timeoutMs });
    return reply.message === message ? payload : Buffer.from(reply.message);
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}
