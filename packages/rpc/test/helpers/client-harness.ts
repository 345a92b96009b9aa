/**
 * What the client suites share: real `@netpoll/rpc` servers and clients, raw `node:net` servers
 * that speak the wire format byte by byte (to misbehave on purpose and to see exactly what the
 * client sent), closed ports, and waiting by condition (never sleep-and-hope). Everything is
 * closed after its test, passed or failed: servers and raw servers shut down, clients are
 * destroyed (so no call is left pending).
 */
import { createServer as createNetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterTest, tempDirAfterTest } from '@netpoll/jest-config/cleanup';
import {
  type ClientOptions,
  createClient,
  createServer,
  decodeMessage,
  encodeMessage,
  Kind,
  type Message,
  type Resolver,
  type RpcClient,
  type RpcServer,
  type ServerOptions,
  type Service,
} from '../../src';

export { afterTest, closeAfterTest, destroyAfterTest } from '@netpoll/jest-config/cleanup';

/** How long a raw server waits for what the client should send before the test fails. */
const kWaitLimit = 10000;

let counter = 0;

/** A fresh Unix socket path in a private temp folder. */
export function tempSocketPath(): string {
  const folder = tempDirAfterTest('rpc-client-');
  counter++;
  return join(folder, `c${counter}.sock`);
}

/** Where a test server listens: TCP on 127.0.0.1 (port 0) or a Unix socket in a temp folder. */
export type Network = 'tcp' | 'unix';

function listenAddress(network: Network): string {
  return network === 'tcp' ? '127.0.0.1:0' : tempSocketPath();
}

/** An RPC server listening on a fresh address; closed after the test. */
export async function startServer(
  service: Service,
  options?: ServerOptions,
  network: Network = 'tcp',
): Promise<RpcServer> {
  const server = createServer(service, options);
  afterTest(() => server.close({ timeout: 1000 }));
  await server.listen(listenAddress(network));
  return server;
}

/** Resolves once `server` has `count` connections open (fails after 5 s). */
export async function serverConnections(
  server: { stats(): Promise<{ connections: number }> },
  count: number,
): Promise<void> {
  const end = performance.now() + 5000;
  while ((await server.stats()).connections !== count) {
    if (performance.now() > end) throw new Error(`the server never had ${count} connections`);
    await delay(5);
  }
}

/** A client destroyed after the test (destroy: a call a failed test left pending cannot hang). */
export function startClient(
  target: string | readonly string[] | Resolver,
  options?: ClientOptions,
): RpcClient {
  const client = createClient(target, options);
  afterTest(() => client.destroy());
  return client;
}

/** An address nothing listens on: a port that was bound, then released. */
export async function closedPort(): Promise<string> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

/** A promise with its resolve and reject functions. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  return { promise, resolve, reject };
}

/** Resolves once `predicate()` holds, checking every few ms; fails after `limit` ms. */
export async function until(predicate: () => boolean, what: string, limit = 10000): Promise<void> {
  const end = performance.now() + limit;
  while (!predicate()) {
    if (performance.now() > end) throw new Error(`condition never became true: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** `promise`, or a rejection naming `what` when it has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** Resolves after `ms` (only to let a stated amount of time pass, never to wait for an event). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** How a call ended. */
export type Outcome =
  | { ok: true; value: unknown; at: number }
  | {
      ok: false;
      error: Error & { code?: string; processed?: boolean };
      at: number;
    };

/** Settles with how `promise` ended and when (monotonic ms), never rejects. */
export function outcome(promise: Promise<unknown>): Promise<Outcome> {
  return promise.then(
    (value) => ({ ok: true, value, at: performance.now() }),
    (error: Error) => ({ ok: false, error, at: performance.now() }),
  );
}

/** The rejection of `promise` (fails the test when it resolves). */
export async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { code?: string; processed?: boolean; [key: string]: unknown }> {
  const result = await outcome(promise);
  if (result.ok) throw new Error(`expected a rejection, got ${String(result.value)}`);
  return result.error as Error & { code?: string; processed?: boolean; [key: string]: unknown };
}

/** `Buffer.from(text)`, for raw payloads. */
export function bytes(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

// ---- raw wire-format servers --------------------------------------------------------------------

/** One accepted connection of a {@link RawServer}. */
export interface RawConnection {
  readonly socket: Socket;
  /** Every message received, in order. */
  readonly messages: Message[];
  /** The bytes of each `'data'` event, in order. */
  readonly chunks: Buffer[];
  /** Whether the client closed (or the connection failed). */
  readonly ended: boolean;
  /** Resolves when the socket is closed (rejects after 10 s). */
  readonly closed: Promise<void>;
  /** Writes one message (4-byte length header). */
  send(message: Message): void;
  /** Resolves once `count` messages have arrived (all of them, in order; rejects after 10 s). */
  received(count: number): Promise<Message[]>;
  /** Requests (REQUEST and ONE_WAY) received. */
  requests(): Message[];
}

/** What a raw server does with each message; the default answers PINGs with PONGs. */
export type RawHandler = (connection: RawConnection, message: Message) => void;

/** A `node:net` server that decodes the wire format and lets the test answer by hand. */
export interface RawServer {
  readonly address: string;
  readonly connections: RawConnection[];
  /** Called for every message after it is recorded (replace it to change behaviour). */
  handler: RawHandler;
  /** Resolves with the `index`-th accepted connection (0-based) once it exists (10 s at most). */
  connection(index: number): Promise<RawConnection>;
  /** Requests received over all connections. */
  requests(): Message[];
  /** Stops accepting at once (existing connections stay). */
  stopListening(): Promise<void>;
  /** Stops accepting and destroys every connection. */
  close(): Promise<void>;
}

/** Answers a PING with a PONG carrying its payload, as a live server does. */
export const answerPings: RawHandler = (connection, message) => {
  if (message.kind === Kind.PING) {
    connection.send({ kind: Kind.PONG, seq: message.seq, payload: message.payload });
  }
};

/** A raw server on 127.0.0.1 (port 0) or a Unix socket; closed after the test. */
export async function startRawServer(
  handler: RawHandler = answerPings,
  network: Network = 'tcp',
): Promise<RawServer> {
  const connections: RawConnection[] = [];
  const waiters: Array<() => void> = [];
  const server = createNetServer((socket) => {
    const messages: Message[] = [];
    const chunks: Buffer[] = [];
    let pending: Buffer = Buffer.alloc(0);
    let ended = false;
    const counters: Array<{ count: number; resolve: (messages: Message[]) => void }> = [];
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const connection: RawConnection = {
      socket,
      messages,
      chunks,
      get ended() {
        return ended;
      },
      get closed() {
        return within(closed, kWaitLimit, 'the close of a raw connection');
      },
      send(message) {
        if (!socket.destroyed) socket.write(encodeMessage(message));
      },
      received(count) {
        if (messages.length >= count) return Promise.resolve(messages.slice());
        return within(
          new Promise((resolve) => counters.push({ count, resolve })),
          kWaitLimit,
          `message ${count} from the client`,
        );
      },
      requests() {
        return messages.filter(
          (message) => message.kind === Kind.REQUEST || message.kind === Kind.ONE_WAY,
        );
      },
    };
    socket.on('error', () => {});
    socket.on('close', () => {
      ended = true;
    });
    socket.on('end', () => {
      ended = true;
    });
    socket.on('data', (data: Buffer) => {
      chunks.push(Buffer.from(data));
      pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
      while (pending.length >= 4) {
        const length = pending.readUInt32BE(0);
        if (pending.length < 4 + length) break;
        const message = decodeMessage(Buffer.from(pending.subarray(4, 4 + length)));
        pending = pending.subarray(4 + length);
        messages.push(message);
        raw.handler(connection, message);
        for (let i = counters.length - 1; i >= 0; i--) {
          if (messages.length >= counters[i]!.count) {
            counters[i]!.resolve(messages.slice());
            counters.splice(i, 1);
          }
        }
      }
    });
    connections.push(connection);
    for (const wake of waiters.splice(0)) wake();
  });
  const path = network === 'unix' ? tempSocketPath() : null;
  await new Promise<void>((resolve) => {
    if (path === null) server.listen(0, '127.0.0.1', resolve);
    else server.listen(path, resolve);
  });
  const address = path ?? `127.0.0.1:${(server.address() as { port: number }).port}`;
  // server.close() stops accepting at once; its callback (and 'close') wait for every connection.
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
  const stopListening = (): Promise<void> => {
    if (server.listening) server.close();
    return Promise.resolve();
  };
  const raw: RawServer = {
    address,
    connections,
    handler,
    async connection(index) {
      while (connections.length <= index) {
        await within(
          new Promise<void>((resolve) => waiters.push(resolve)),
          kWaitLimit,
          `connection ${index} from the client`,
        );
      }
      return connections[index]!;
    },
    requests() {
      return connections.flatMap((connection) => connection.requests());
    },
    stopListening,
    async close() {
      await stopListening();
      for (const connection of connections) connection.socket.destroy();
      await closed;
    },
  };
  afterTest(() => raw.close());
  return raw;
}

/** The payloads of `messages` as UTF-8 strings. */
export function payloads(messages: readonly Message[]): string[] {
  return messages.map((message) => message.payload.toString('utf8'));
}
