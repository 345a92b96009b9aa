import { existsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createListener, EventLoop, getReactorStats, type Listener } from '@netpoll/core';
import { backpressure, onError, onRequest } from './core-echo-handler';
import type { EchoServer, EchoServerOptions } from './echo-server';
import type { EchoAddress } from './listen-address';

/**
 * Length-header echo on @netpoll/core (the handler is `./core-echo-handler`). With
 * `options.reactors` > 1 the loop runs that many reactors, one per worker thread, each loading the
 * handler module; a TCP listener is then created with `reusePort` so the kernel spreads
 * connections over them (Linux).
 */
export async function startCoreEchoServer(
  address: EchoAddress,
  options: EchoServerOptions,
): Promise<EchoServer> {
  const reactors = options.reactors ?? 1;
  const framing = { lengthHeader: 4 as const, maxFrameSize: Math.max(options.maxFrameSize, 1) };
  const loop =
    reactors === 1
      ? new EventLoop(onRequest, { framing, onError })
      : new EventLoop(null, { framing, reactors, handler: handlerModule() });
  const listener = listen(address, reactors > 1);
  const served = loop.serve(listener);
  // serve() settles only when the loop stops; a listener closed from outside is not fatal here.
  served.catch(() => undefined);
  await Promise.race([loop.whenAccepting(listener), served]);
  return {
    address: boundAddress(address, listener),
    close: async (timeout) => {
      await loop.shutdown({ timeout });
      await served.catch(() => undefined);
    },
    // With worker reactors the reactor and handler counters live in the workers; report what
    // the loop sums.
    stats: (): Readonly<Record<string, number>> => {
      if (reactors > 1) return { reactors, connections: loop.connectionCount };
      return {
        ...getReactorStats(),
        backpressurePauses: backpressure.pauses,
        backpressureResumes: backpressure.resumes,
      };
    },
  };
}

/**
 * The compiled handler module the worker reactors load: next to this file in dist/; from the
 * TypeScript sources (ts-jest) the built copy in dist/raw.
 */
function handlerModule(): string {
  const here = join(__dirname, 'core-echo-handler.js');
  return existsSync(here)
    ? here
    : join(__dirname, '..', '..', 'dist', 'raw', 'core-echo-handler.js');
}

function listen(address: EchoAddress, reusePort: boolean): Listener {
  if (address.network === 'tcp') {
    const host = address.host.includes(':') ? `[${address.host}]` : address.host;
    return createListener('tcp', `${host}:${address.port}`, { reusePort });
  }
  try {
    unlinkSync(address.path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return createListener('unix', address.path);
}

function boundAddress(asked: EchoAddress, listener: Listener): EchoAddress {
  if (asked.network === 'unix') return asked;
  return { network: 'tcp', host: asked.host, port: listener.port };
}
