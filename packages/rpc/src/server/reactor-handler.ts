/**
 * The handler module `@netpoll/core` loads in each reactor thread of a multi-core server: its
 * `init()` imports the service module named by the server (`handlerData.module`) and builds the
 * thread's {@link ServerCore}; the core callbacks delegate to it. It also answers the main
 * thread's stats requests on the server's BroadcastChannel.
 */

import { pathToFileURL } from 'node:url';
import { BroadcastChannel } from 'node:worker_threads';
import type { Connection } from '@netpoll/core';
import { describe, InvalidArgumentError } from '../errors';
import { resolveServerOptions, type ServerOptions } from '../options';
import type { StatsMessage } from './server';
import { type Interceptor, ServerCore } from './server-core';

let core: ServerCore | null = null;

interface HandlerData {
  module: string;
  options: ServerOptions;
  stats: string;
}

/** Loads the service module: its `service` export (or its default export's, or the default). */
export async function init(data: HandlerData): Promise<void> {
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(pathToFileURL(data.module).href)) as Record<string, unknown>;
  } catch (error) {
    // Always an Error, so the listen() error can give its message (`throw undefined` happens).
    throw error instanceof Error ? error : new Error(`it threw ${describe(error)}`);
  }
  const fallback = loaded.default as Record<string, unknown> | undefined;
  const service = loaded.service ?? fallback?.service ?? fallback;
  if (typeof service !== 'object' || service === null) {
    throw new InvalidArgumentError(
      'service module',
      'a module exporting service (method names to handlers)',
      service,
    );
  }
  const interceptors = (loaded.interceptors ?? fallback?.interceptors ?? []) as unknown;
  if (!Array.isArray(interceptors) || interceptors.some((item) => typeof item !== 'function')) {
    throw new InvalidArgumentError('interceptors export', 'an array of functions', interceptors);
  }
  core = new ServerCore(service, resolveServerOptions(data.options));
  core.interceptors.push(...(interceptors as Interceptor[]));
  const channel = new BroadcastChannel(data.stats);
  channel.onmessage = (event: unknown) => {
    const message = (event as { data: StatsMessage }).data;
    if (message.type !== 'stats' || core === null) return;
    channel.postMessage({
      type: 'stats-reply',
      id: message.id,
      state: core.counters.state(),
    } satisfies StatsMessage);
  };
  // The channel must not keep a reactor thread alive once its loop is done.
  channel.unref();
}

export function onConnect(connection: Connection): unknown {
  return core!.onConnect(connection);
}

export function onRequest(connection: Connection, context: unknown): void {
  core!.onRequest(connection, context);
}

export function onError(error: Error): void {
  core?.onError(error);
}
