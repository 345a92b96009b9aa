import { unlinkSync } from 'node:fs';
import {
  type Connection,
  createListener,
  EventLoop,
  getReactorStats,
  type Listener,
} from '@netpoll/core';
import type { EchoServer, EchoServerOptions } from './echo-server';
import type { EchoAddress } from './listen-address';

/**
 * Length-header echo on @netpoll/core. The reactor frames natively, so the
 * handler only ever sees complete frames; it walks their headers with
 * `peekUint32BE(offset)` and answers all of them with one `writeFrom` of the
 * consumed bytes (no view object: the reader's slab regions are shared with
 * the writer, so the reply is sent straight from where it was read) and one
 * `flush()` — no JS allocation per request. The replies leave with one `writev` after the
 * batch, as the hand-optimised node:net server answers a chunk with one `write`.
 */
export async function startCoreEchoServer(
  address: EchoAddress,
  options: EchoServerOptions,
): Promise<EchoServer> {
  const loop = new EventLoop(echoFrames, {
    framing: { lengthHeader: 4, maxFrameSize: Math.max(options.maxFrameSize, 1) },
    // A misbehaving peer closes only its own connection; nothing to log for the echo server.
    onError: () => undefined,
  });
  const listener = listen(address);
  const served = loop.serve(listener);
  // serve() settles only when the loop stops; a listener closed from outside is not fatal here.
  served.catch(() => undefined);
  return {
    address: boundAddress(address, listener),
    close: async (timeout) => {
      await loop.shutdown({ timeout });
      await served.catch(() => undefined);
    },
    stats: () => ({ ...getReactorStats() }),
  };
}

function echoFrames(connection: Connection): void {
  const { reader, writer } = connection;
  const length = reader.len();
  let end = 0;
  while (length - end >= 4) {
    const frameEnd = end + 4 + reader.peekUint32BE(end);
    if (frameEnd > length) break;
    end = frameEnd;
  }
  if (end > 0) writer.writeFrom(reader, end);
  writer.flush();
}

function listen(address: EchoAddress): Listener {
  if (address.network === 'tcp') {
    const host = address.host.includes(':') ? `[${address.host}]` : address.host;
    return createListener('tcp', `${host}:${address.port}`);
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
