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
 * handler only ever sees complete frames; it answers each frame with a copy
 * of it (one `writeBinary` per frame) and flushes once per call — the bytes
 * leave with one `writev` after the batch.
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
  let length = reader.len();
  while (length >= 4) {
    const frameSize = 4 + reader.peekUint32BE();
    if (length < frameSize) break;
    writer.writeBinary(reader.next(frameSize));
    length -= frameSize;
  }
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
