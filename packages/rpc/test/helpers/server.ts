/**
 * Starting servers under test and waiting without sleeps. A server started here is closed after
 * the test, pass or fail (a short timeout, so a handler a failed test left blocked cannot hold
 * the run up).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { join } from 'node:path';
import type { Connection } from '@netpoll/core';
import { afterTest, tempDirAfterTest } from '@netpoll/jest-config/cleanup';
import { createServer, type RpcServer, type ServerOptions, type Service } from '../../src';

export { afterTest, closeAfterTest, destroyAfterTest } from '@netpoll/jest-config/cleanup';

/** Creates a server for `service`, listening on `address` (default: 127.0.0.1, a free port). */
export async function startServer(
  service: Service,
  options?: ServerOptions,
  address = '127.0.0.1:0',
): Promise<RpcServer> {
  const server = createServer(service, options);
  afterTest(() => server.close({ timeout: 200 }).catch(() => undefined));
  await server.listen(address);
  return server;
}

/** A fresh Unix socket path in a private temp folder. */
export function tempSocketPath(): string {
  return join(tempDirAfterTest('netpoll-rpc-'), 'rpc.sock');
}

/** A promise with its resolve and reject functions. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Resolves once `predicate()` holds, checking after each turn of the event loop (bounded). */
export async function until(predicate: () => boolean, what: string, turns = 20000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (predicate()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`condition never became true: ${what}`);
}

/**
 * Resolves once `predicate()` holds, checking every 2 ms for up to 10 s: for conditions other
 * threads (reactors, workers) make true, where this thread's loop turns say nothing.
 */
export async function eventually(
  predicate: () => boolean | Promise<boolean>,
  what: string,
): Promise<void> {
  const limit = Date.now() + 10_000;
  while (!(await predicate())) {
    if (Date.now() > limit) throw new Error(`condition never became true: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** The error a promise rejects with (fails when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

/** The error `fn` throws (fails when it returns). */
export function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a throw');
}

/** Waits until the server runs exactly `count` calls (its stats say so). */
export async function waitInFlight(server: RpcServer, count: number): Promise<void> {
  for (let i = 0; i < 5000; i++) {
    if ((await server.stats()).calls.inFlight === count) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`the server never had ${count} calls in flight`);
}

/**
 * The server side of every connection accepted from now on, in this thread (core's
 * `netpoll:connection:open` channel), until the end of the test: lets a test wait until the
 * server has seen a client's EOF or reset (`isActive()` false) before going on.
 */
export function watchServerConnections(): Connection[] {
  const connections: Connection[] = [];
  const onOpen = (message: unknown) => {
    const { connection, side } = message as { connection: Connection; side: string };
    if (side === 'server') connections.push(connection);
  };
  subscribe('netpoll:connection:open', onOpen);
  afterTest(() => unsubscribe('netpoll:connection:open', onOpen));
  return connections;
}
