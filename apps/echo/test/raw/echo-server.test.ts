import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  type Connection,
  createListener,
  dialConnection,
  EventLoop,
  getReactorStats,
  kDefaultEventLoopOptions,
} from '@netpoll/core';
import {
  afterTest,
  closeAfterTest,
  destroyAfterTest,
  tempDirAfterTest,
} from '@netpoll/jest-config/cleanup';
import { onError, onRequest } from '../../src/raw/core-echo-handler';
import type { EchoImplementation, EchoServer } from '../../src/raw/echo-server';
import type { EchoAddress } from '../../src/raw/listen-address';
import { startEchoServer } from '../../src/raw/start-echo-server';
import { FrameClient, frame } from './helpers/frame-client';
import { until, untilQuiet } from './helpers/turns';

const kImplementations: readonly EchoImplementation[] = ['core', 'net', 'net-batched'];
const kTcp: EchoAddress = { network: 'tcp', host: '127.0.0.1', port: 0 };

function unixAddress(): EchoAddress {
  return { network: 'unix', path: join(tempDirAfterTest('netpoll-echo-'), 'echo.sock') };
}

/** Connects a client that is closed after the test, pass or fail. */
async function connect(address: EchoAddress): Promise<FrameClient> {
  const client = await FrameClient.connect(address);
  destroyAfterTest(client.socket);
  return client;
}

/** 256 frames of 64 KiB with distinct contents: 16 MiB, far more than kernel and server buffers. */
const kFrameBytes = 64 * 1024;
function floodFrames(): Buffer[] {
  return Array.from({ length: 256 }, () => frame(randomBytes(kFrameBytes)));
}

/** Writes the frames from a node:net client that reads nothing; returns the whole stream. */
function flood(client: FrameClient): Buffer {
  const frames = floodFrames();
  client.socket.pause();
  for (const piece of frames) client.socket.write(piece);
  return Buffer.concat(frames);
}

describe.each(kImplementations)('echo server (%s)', (implementation) => {
  let server: EchoServer;

  afterEach(async () => {
    await server.close(1000);
  });

  it('answers every frame with an identical frame, in order, across odd chunk boundaries', async () => {
    server = await startEchoServer(implementation, kTcp, { maxFrameSize: 1 << 20 });
    const client = await connect(server.address);
    const frames = [0, 1, 7, 1024, 4096, 65_537, 300_000].map((size) => frame(randomBytes(size)));
    const stream = Buffer.concat(frames);
    // Dribble the stream in uneven pieces so headers and payloads straddle reads.
    for (let offset = 0, step = 1; offset < stream.length; offset += step, step = step * 3 + 1) {
      client.socket.write(stream.subarray(offset, offset + step));
    }
    const echoed = await client.receive(stream.length);
    expect(echoed.equals(stream)).toBe(true);
    client.socket.destroy();
  });

  it('serves a Unix socket', async () => {
    const address = unixAddress();
    server = await startEchoServer(implementation, address, { maxFrameSize: 64 });
    expect(server.address).toEqual(address);
    const client = await connect(server.address);
    const request = frame(Buffer.from('over a unix socket'));
    client.socket.write(request);
    expect((await client.receive(request.length)).equals(request)).toBe(true);
    client.socket.destroy();
  });

  it('closes only the connection whose header exceeds maxFrameSize', async () => {
    server = await startEchoServer(implementation, kTcp, { maxFrameSize: 1024 });
    const good = await connect(server.address);
    const bad = await connect(server.address);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1025, 0);
    bad.socket.write(header);
    await bad.closed;
    const request = frame(Buffer.alloc(1024, 0x5a));
    good.socket.write(request);
    expect((await good.receive(request.length)).equals(request)).toBe(true);
    good.socket.destroy();
  });

  it('stops reading a client that sends without reading its replies, and resumes once it reads', async () => {
    const address = unixAddress();
    if (address.network !== 'unix') throw new Error('unreachable');
    server = await startEchoServer(implementation, address, { maxFrameSize: kFrameBytes });
    const before = server.stats();
    const pauses = () => server.stats().backpressurePauses! - before.backpressurePauses!;
    const resumes = () => server.stats().backpressureResumes! - before.backpressureResumes!;
    // The client is a @netpoll/core connection: its pendingBytes counts exactly what its kernel
    // has not taken yet, i.e. what the server has not let in.
    const client = closeAfterTest(await dialConnection('unix', address.path));
    client.pauseRead(); // reads nothing
    const frames = floodFrames();
    for (const piece of frames) client.writer.writeBinary(piece);
    client.writer.flush();
    const stream = Buffer.concat(frames);
    await until(() => pauses() >= 1, 'the server paused reading');
    await untilQuiet(
      () => `${client.pendingBytes}/${pauses()}/${resumes()}`,
      'client, kernel and server at rest',
    );
    // Paused now: every earlier pause (while the client's socket buffer still took replies) was
    // resumed, the last one was not.
    expect(resumes()).toBe(pauses() - 1);
    // What left the client sits in the two sockets' kernel buffers and in the server (its
    // unsent replies up to the high-water mark, 1 MiB for core): a few MiB at most, not 16.
    expect(stream.length - client.pendingBytes).toBeLessThanOrEqual(4 * 1024 * 1024);
    client.resumeRead();
    await client.reader.waitFor(stream.length);
    expect(client.reader.readBinary(stream.length).equals(stream)).toBe(true);
    await until(() => resumes() === pauses(), 'every pause resumed');
  });
});

describe('core echo handler under backpressure', () => {
  it('pauses the connection once its unsent replies reach the high-water mark, and resumes it on drain', async () => {
    const path = unixAddress();
    if (path.network !== 'unix') throw new Error('unreachable');
    let accepted: Connection | undefined;
    const loop = new EventLoop(onRequest, {
      framing: { lengthHeader: 4, maxFrameSize: kFrameBytes },
      onError,
      onConnect: (connection) => {
        accepted = connection;
      },
    });
    const listener = createListener('unix', path.path);
    const served = loop.serve(listener);
    afterTest(async () => {
      await loop.shutdown({ timeout: 1000 });
      await served;
    });
    const client = await connect(path);
    const stream = flood(client);
    await until(() => accepted?.readPaused === true, 'the server connection paused reading');
    const connection = accepted!;
    const readAtPause = getReactorStats().bytesRead;
    await untilQuiet(
      () =>
        `${client.socket.writableLength}/${connection.pendingBytes}/${getReactorStats().bytesRead}`,
      'client, kernel and server at rest',
    );
    // Paused, and nothing read since: the peer sees TCP backpressure instead of the server
    // queueing its replies without bound.
    expect(connection.readPaused).toBe(true);
    expect(connection.writable).toBe(false);
    expect(getReactorStats().bytesRead).toBe(readAtPause);
    // Queued replies: at least the high-water mark (why it paused), and at most that plus what one
    // handler call can add (the frames of one read, at most one frame plus one 64 KiB read).
    const highWaterMark = kDefaultEventLoopOptions.highWaterMark;
    expect(connection.pendingBytes).toBeGreaterThanOrEqual(highWaterMark);
    expect(connection.pendingBytes).toBeLessThanOrEqual(highWaterMark + 4 + kFrameBytes + 65536);
    client.socket.resume();
    expect((await client.receive(stream.length)).equals(stream)).toBe(true);
    await until(() => !connection.readPaused, 'reading resumed after the drain');
  });
});
