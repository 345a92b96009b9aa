import { once } from 'node:events';
import { unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { EchoServer, EchoServerOptions } from './echo-server';
import type { EchoAddress } from './listen-address';

/**
 * Length-header echo on `node:net`, the baseline the benchmarks compare against.
 *
 * `batched: false` is the idiomatic server: one `socket.write` per frame.
 * `batched: true` is the hand-optimised one: every complete frame of a chunk
 * goes out in one `socket.write` of the contiguous bytes.
 *
 * Both respect backpressure as node:net code should: when `socket.write()` returns false
 * (the peer is not reading its replies) the socket is paused until `'drain'`.
 */
export async function startNetEchoServer(
  address: EchoAddress,
  options: EchoServerOptions & { readonly batched: boolean },
): Promise<EchoServer> {
  const sockets = new Set<Socket>();
  const backpressure = { pauses: 0, resumes: 0 };
  const resumeReading = function (this: Socket): void {
    backpressure.resumes += 1;
    this.resume();
  };
  const pauseUntilDrained = (socket: Socket): void => {
    socket.pause();
    backpressure.pauses += 1;
    socket.once('drain', resumeReading);
  };
  const server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A misbehaving peer must never crash the process; resets surface here.
    socket.on('error', () => socket.destroy());
    socket.on('data', echoFrames(socket, options.maxFrameSize, options.batched, pauseUntilDrained));
  });
  if (address.network === 'unix') removeStaleSocket(address.path);
  server.listen(
    address.network === 'tcp' ? { host: address.host, port: address.port } : address.path,
  );
  await once(server, 'listening');
  return {
    address: resolvedAddress(server, address),
    close: (timeout) => closeServer(server, sockets, timeout),
    stats: () => ({
      backpressurePauses: backpressure.pauses,
      backpressureResumes: backpressure.resumes,
    }),
  };
}

function echoFrames(
  socket: Socket,
  maxFrameSize: number,
  batched: boolean,
  pauseUntilDrained: (socket: Socket) => void,
) {
  let pending: Buffer | null = null;
  return (chunk: Buffer): void => {
    let data: Buffer = pending === null ? chunk : Buffer.concat([pending, chunk]);
    let consumed = 0;
    let writable = true;
    while (data.length - consumed >= 4) {
      const length = data.readUInt32BE(consumed);
      if (length > maxFrameSize) {
        socket.destroy();
        return;
      }
      if (data.length - consumed < 4 + length) break;
      if (!batched) writable = socket.write(data.subarray(consumed, consumed + 4 + length));
      consumed += 4 + length;
    }
    if (batched && consumed > 0) writable = socket.write(data.subarray(0, consumed));
    data = data.subarray(consumed);
    pending = data.length === 0 ? null : data;
    if (!writable && !socket.isPaused()) pauseUntilDrained(socket);
  };
}

function resolvedAddress(server: Server, asked: EchoAddress): EchoAddress {
  const bound = server.address();
  if (asked.network === 'unix' || bound === null || typeof bound === 'string') return asked;
  return { network: 'tcp', host: bound.address, port: bound.port };
}

function removeStaleSocket(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

async function closeServer(server: Server, sockets: Set<Socket>, timeout: number): Promise<void> {
  const closed = once(server, 'close');
  server.close();
  // Idle keep-alive peers would hold close() forever: end them, then force after the grace time.
  for (const socket of sockets) socket.end();
  const timer = setTimeout(() => {
    for (const socket of sockets) socket.destroy();
  }, timeout);
  timer.unref();
  await closed;
  clearTimeout(timer);
}
