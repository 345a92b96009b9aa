/**
 * Helpers for real-socket tests: addon presence, temporary Unix paths, echo servers, and
 * promise-based waiting (never sleep-and-hope). Everything a test opens is closed after it, pass
 * or fail: `startServer` registers its own cleanup; wrap what else you open in `closeAfterTest`
 * (connections, listeners), `destroyAfterTest` (node:net sockets) or `afterTest(fn)`.
 */
import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterTest, destroyAfterTest, tempDirAfterTest } from '@netpoll/jest-config/cleanup';
import {
  type Connection,
  createListener,
  EventLoop,
  type EventLoopOptions,
  type Listener,
} from '../../src';

export {
  afterTest,
  closeAfterTest,
  destroyAfterTest,
  tempDirAfterTest,
} from '@netpoll/jest-config/cleanup';

/** True when the addon has been built (native tests need it). */
export const kAddonBuilt = existsSync(
  join(__dirname, '..', '..', 'build', 'Release', 'netpoll_core.node'),
);

/** `describe` when the addon is built on a supported platform, else a skipped suite with a reason. */
export const describeNative: jest.Describe =
  kAddonBuilt && process.platform !== 'win32'
    ? describe
    : (Object.assign(
        (name: string, fn: () => void) =>
          describe.skip(`${name} (skipped: build/Release/netpoll_core.node missing)`, fn),
        describe,
      ) as jest.Describe);

let counter = 0;
/** A fresh Unix socket path in a private temp folder. */
export function tempSocketPath(): string {
  const folder = tempDirAfterTest('netpoll-');
  counter++;
  return join(folder, `s${counter}.sock`);
}

/** Echoes everything it receives. */
export function echoHandler(connection: Connection): void {
  const reader = connection.reader;
  const data = reader.next(reader.len());
  connection.writer.writeBinary(data);
  connection.writer.flush();
}

export interface TestServer {
  loop: EventLoop;
  listener: Listener;
  served: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts an EventLoop on a fresh TCP (default) or Unix listener. It is shut down after the test
 * even when the test fails before its own `stop()`.
 */
export function startServer(
  onRequest: ((connection: Connection, context: unknown) => unknown) | null,
  options?: EventLoopOptions,
  network: 'tcp' | 'unix' = 'tcp',
): TestServer {
  const loop = new EventLoop(onRequest, options);
  const listener = createListener(network, network === 'tcp' ? '127.0.0.1:0' : tempSocketPath());
  const served = loop.serve(listener);
  afterTest(async () => {
    // A second shutdown() returns the first one's promise, which a test may have aborted.
    await loop.shutdown({ timeout: 1000 }).catch(() => undefined);
    await served.catch(() => undefined); // a test may have closed the listener on purpose
    listener.close();
  });
  return {
    loop,
    listener,
    served,
    async stop() {
      await loop.shutdown({ timeout: 1000 });
      await served;
    },
  };
}

/** A promise with its resolve function, for waiting on callbacks. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Resolves when `predicate()` is true, checking after each turn of the event loop. */
export async function until(predicate: () => boolean, what: string, limit = 20000): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (predicate()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`condition never became true: ${what}`);
}

/** Reads exactly `n` bytes from a dialed connection (copy). */
export async function readExactly(connection: Connection, n: number): Promise<Buffer> {
  await connection.reader.waitFor(n);
  return connection.reader.readBinary(n);
}

/**
 * A plain `node:net` client of 127.0.0.1:`port`, connected, destroyed after the test. Its
 * errors are ignored: the tests assert on what arrives and on when it closes.
 */
export function rawClient(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = destroyAfterTest(connect(port, '127.0.0.1', () => resolve(socket)));
    socket.on('error', () => {});
  });
}

/** Resolves once `socket` has closed. */
export function socketClosed(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.on('close', () => resolve()));
}
