/**
 * Misbehaving peers against a framed echo server: oversized headers, garbage, resets mid-frame,
 * half-close, a slow reader and a 1-byte dribble. The server must contain every failure to the
 * connection that caused it and keep serving others.
 */
import { randomBytes } from 'node:crypto';
import { type Connection, dialConnection } from '../../src';
import {
  afterTest,
  closeAfterTest,
  deferred,
  describeNative,
  rawClient,
  readExactly,
  socketClosed,
  startServer,
  until,
} from '../helpers/native';

const kMaxFrame = 64 * 1024;

function frame(payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length);
  return Buffer.concat([header, payload]);
}

/** Echoes complete frames (native framing guarantees the reader holds whole frames). */
function frameEcho(connection: Connection): void {
  const reader = connection.reader;
  while (reader.len() >= 4) {
    const length = reader.peek(4).readUInt32BE(0);
    const whole = reader.next(4 + length);
    connection.writer.writeBinary(whole);
  }
  connection.writer.flush();
}

function framedServer(errors: Error[] = []) {
  return startServer(frameEcho, {
    framing: { lengthHeader: 4, maxFrameSize: kMaxFrame },
    onError: (error) => errors.push(error),
  });
}

async function assertStillServing(port: number): Promise<void> {
  const client = closeAfterTest(await dialConnection('tcp', `127.0.0.1:${port}`));
  const message = frame(Buffer.from('still alive'));
  client.writer.writeBinary(message);
  client.writer.flush();
  expect((await readExactly(client, message.length)).equals(message)).toBe(true);
  client.close();
}

describeNative('bad input', () => {
  it('closes a connection whose header exceeds maxFrameSize with ERR_NETPOLL_FRAME_TOO_LARGE', async () => {
    const errors: Error[] = [];
    const server = framedServer(errors);
    const client = await rawClient(server.listener.port);
    const done = socketClosed(client);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(kMaxFrame + 1);
    client.write(header);
    await done;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'ERR_NETPOLL_FRAME_TOO_LARGE' });
    expect(errors[0]!.message).toBe(
      `frame of ${kMaxFrame + 1} bytes exceeds maxFrameSize ${kMaxFrame}`,
    );
    await assertStillServing(server.listener.port);
    await server.stop();
  });

  it('delivers the complete frames that precede an oversized header', async () => {
    const server = framedServer();
    const client = await rawClient(server.listener.port);
    const good = frame(Buffer.from('good'));
    const received: Buffer[] = [];
    client.on('data', (chunk: Buffer) => received.push(chunk));
    const done = socketClosed(client);
    client.write(Buffer.concat([good, Buffer.from([0xff, 0xff, 0xff, 0xff])]));
    await done;
    expect(Buffer.concat(received).equals(good)).toBe(true);
    await server.stop();
  });

  it('survives random garbage from many peers', async () => {
    const server = framedServer();
    const peers = await Promise.all(
      Array.from({ length: 20 }, () => rawClient(server.listener.port)),
    );
    for (const peer of peers) peer.write(randomBytes(4096));
    for (const peer of peers) peer.destroy();
    await until(() => server.loop.connectionCount === 0, 'garbage connections closed');
    await assertStillServing(server.listener.port);
    await server.stop();
  });

  it('handles a reset in the middle of a frame', async () => {
    const disconnected = deferred();
    const server = startServer(frameEcho, {
      framing: { lengthHeader: 4, maxFrameSize: kMaxFrame },
      onDisconnect: () => disconnected.resolve(),
    });
    const client = await rawClient(server.listener.port);
    client.write(frame(Buffer.alloc(1000, 1)).subarray(0, 500));
    await new Promise((resolve) => setImmediate(resolve));
    client.resetAndDestroy();
    await disconnected.promise;
    await until(() => server.loop.connectionCount === 0, 'reset connection closed');
    await assertStillServing(server.listener.port);
    await server.stop();
  });

  it('treats a half-close as the end of the connection after handling the data (netpoll: no half-close)', async () => {
    const handled = deferred<{ bytes: number; active: boolean }>();
    const server = startServer(
      (connection) => {
        handled.resolve({ bytes: connection.reader.len(), active: connection.isActive() });
        connection.reader.skip(connection.reader.len());
      },
      {
        framing: { lengthHeader: 4, maxFrameSize: kMaxFrame },
        onConnect: (connection) =>
          new Promise<void>((resolve) => connection.once('end', () => resolve())),
      },
    );
    const client = await rawClient(server.listener.port);
    const done = socketClosed(client);
    client.end(frame(Buffer.from('bye')));
    expect(await handled.promise).toEqual({ bytes: 7, active: false });
    await done;
    await server.stop();
  });

  it('keeps a slow reader correct: backpressure, drain, and every byte in order', async () => {
    const sent = deferred<{ sawBackpressure: boolean }>();
    const total = 24 * 1024 * 1024;
    const server = startServer(null, {
      onConnect: async (connection) => {
        let sawBackpressure = false;
        const chunk = Buffer.alloc(256 * 1024);
        for (let offset = 0; offset < total; offset += chunk.length) {
          chunk.fill((offset / chunk.length) & 0xff);
          connection.writer.writeBinary(chunk);
          connection.writer.flush();
          if (!connection.writable) {
            sawBackpressure = true;
            await new Promise((resolve) => connection.once('drain', resolve));
          }
        }
        sent.resolve({ sawBackpressure });
      },
    });
    const client = await rawClient(server.listener.port);
    client.pause();
    let received = 0;
    let ordered = true;
    const finished = new Promise<void>((resolve) => {
      client.on('data', (chunk: Buffer) => {
        for (let i = 0; i < chunk.length; i += 4096) {
          const position = received + i;
          if (chunk[i] !== (Math.floor(position / (256 * 1024)) & 0xff)) ordered = false;
        }
        received += chunk.length;
        if (received === total) resolve();
      });
    });
    // Read slowly: resume in short bursts.
    const timer = setInterval(() => {
      client.resume();
      setImmediate(() => client.pause());
    }, 2);
    afterTest(() => clearInterval(timer));
    await finished;
    clearInterval(timer);
    expect(ordered).toBe(true);
    expect((await sent.promise).sawBackpressure).toBe(true);
    client.destroy();
    await server.stop();
  });

  it('assembles frames larger than one read (1 MiB, 3 MiB) intact through native framing', async () => {
    const frames: number[] = [];
    const server = startServer(
      (connection) => {
        frames.push(connection.reader.len());
        frameEcho(connection);
      },
      { framing: { lengthHeader: 4, maxFrameSize: 4 * 1024 * 1024 } },
    );
    const client = closeAfterTest(await dialConnection('tcp', server.listener.address));
    for (const size of [1024 * 1024, 3 * 1024 * 1024, 10]) {
      const message = frame(randomBytes(size));
      client.writer.writeBinary(message);
      client.writer.flush();
      expect((await readExactly(client, message.length)).equals(message)).toBe(true);
    }
    // Only whole frames ever reached the handler.
    expect(frames).toEqual([1024 * 1024 + 4, 3 * 1024 * 1024 + 4, 14]);
    client.close();
    await server.stop();
  });

  it('assembles a frame dribbled one byte at a time into exactly one request', async () => {
    const requests: number[] = [];
    const server = startServer(
      (connection) => {
        requests.push(connection.reader.len());
        frameEcho(connection);
      },
      { framing: { lengthHeader: 4, maxFrameSize: kMaxFrame } },
    );
    const client = await rawClient(server.listener.port);
    const message = frame(randomBytes(300));
    const echoed: Buffer[] = [];
    let echoedLength = 0;
    const echoDone = new Promise<void>((resolve) => {
      client.on('data', (chunk: Buffer) => {
        echoed.push(chunk);
        echoedLength += chunk.length;
        if (echoedLength === message.length) resolve();
      });
    });
    for (const byte of message) {
      client.write(Buffer.from([byte]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await echoDone;
    expect(Buffer.concat(echoed).equals(message)).toBe(true);
    expect(requests).toEqual([message.length]);
    client.destroy();
    await server.stop();
  });
});
