/**
 * Conformance items 39–48 (netpoll's connection reading behaviours), adapted to promises:
 * a blocking `Next(n)` is `await reader.waitFor(n)` followed by a synchronous read.
 */
import { connect, createServer, type Socket } from 'node:net';
import { type Connection, dialConnection, getReactorStats, isNetpollError } from '../../src';
import {
  afterTest,
  closeAfterTest,
  deferred,
  describeNative,
  destroyAfterTest,
  startServer,
  type TestServer,
  until,
} from '../helpers/native';

/** A server whose accepted connections are handed to the test, plus a raw node:net peer. */
async function acceptedPair(options = {}): Promise<{
  server: TestServer;
  connection: Connection;
  peer: Socket;
}> {
  const accepted = deferred<Connection>();
  const server = startServer(null, { ...options, onConnect: (c) => accepted.resolve(c) });
  const peer = destroyAfterTest(connect(server.listener.port, '127.0.0.1'));
  const connection = await accepted.promise;
  return { server, connection, peer };
}

async function closePair(server: TestServer, peer: Socket): Promise<void> {
  peer.destroy();
  await server.stop();
}

describeNative('connection reading (39–48)', () => {
  it('39: waitFor(n) resolves only when n bytes arrived over several segments', async () => {
    const { server, connection, peer } = await acceptedPair();
    const waiting = connection.reader.waitFor(10);
    let done = false;
    void waiting.then(() => {
      done = true;
    });
    peer.write('abc');
    await until(() => connection.reader.len() === 3, 'first segment');
    expect(done).toBe(false);
    peer.write('defghij');
    await waiting;
    expect(connection.reader.next(10).toString()).toBe('abcdefghij');
    await closePair(server, peer);
  });

  it('40: a read timeout rejects with ERR_NETPOLL_READ_TIMEOUT, keeps the bytes and the connection', async () => {
    const { server, connection, peer } = await acceptedPair({ readTimeout: 30 });
    peer.write('xy');
    await until(() => connection.reader.len() === 2, 'partial data');
    const error = await connection.reader.waitFor(5).catch((e: unknown) => e);
    expect(isNetpollError(error)).toBe(true);
    expect((error as { code: string }).code).toBe('ERR_NETPOLL_READ_TIMEOUT');
    expect((error as { timeout: boolean }).timeout).toBe(true);
    expect((error as Error).message).toContain('connection read timeout 127.0.0.1:');
    expect(connection.isActive()).toBe(true);
    expect(connection.reader.len()).toBe(2);
    peer.write('zzz');
    await connection.reader.waitFor(5);
    expect(connection.reader.readString(5)).toBe('xyzzz');
    await closePair(server, peer);
  });

  it('41: data already buffered satisfies waitFor at once, whatever the timeout', async () => {
    const { server, connection, peer } = await acceptedPair({ readTimeout: 1 });
    peer.write('ok');
    await until(() => connection.reader.len() === 2, 'data');
    await expect(connection.reader.waitFor(2)).resolves.toBeUndefined();
    await closePair(server, peer);
  });

  it('42: setReadTimeout(0) waits forever; a negative value leaves the timeout unchanged', async () => {
    const { server, connection, peer } = await acceptedPair({ readTimeout: 20 });
    connection.setReadTimeout(-1);
    await expect(connection.reader.waitFor(1)).rejects.toMatchObject({
      code: 'ERR_NETPOLL_READ_TIMEOUT',
    });
    connection.setReadTimeout(0);
    const waiting = connection.reader.waitFor(1);
    // Let the wheel pass several ticks beyond the old timeout before data comes.
    await new Promise((resolve) => setTimeout(resolve, 60));
    peer.write('!');
    await expect(waiting).resolves.toBeUndefined();
    await closePair(server, peer);
  });

  it('43: after a peer close buffered bytes stay readable, then waitFor fails with ERR_NETPOLL_EOF', async () => {
    const peerServer = createServer((socket) => socket.end('abc'));
    afterTest(() => new Promise((resolve) => peerServer.close(resolve)));
    await new Promise<void>((resolve) => peerServer.listen(0, '127.0.0.1', resolve));
    const port = (peerServer.address() as { port: number }).port;
    const connection = closeAfterTest(await dialConnection('tcp', `127.0.0.1:${port}`));
    await until(() => !connection.isActive(), 'peer close observed');
    await connection.reader.waitFor(3);
    expect(connection.reader.next(3).toString()).toBe('abc');
    await expect(connection.reader.waitFor(1)).rejects.toMatchObject({
      code: 'ERR_NETPOLL_EOF',
      message: 'EOF wait read',
    });
    connection.close();
    await new Promise((resolve) => peerServer.close(resolve));
  });

  it('43: after a peer reset buffered bytes stay readable, then waitFor fails with the reset, not EOF', async () => {
    const peerServer = createServer((socket) => {
      socket.write('abc', () => setTimeout(() => socket.resetAndDestroy(), 20));
    });
    afterTest(() => new Promise((resolve) => peerServer.close(resolve)));
    await new Promise<void>((resolve) => peerServer.listen(0, '127.0.0.1', resolve));
    const port = (peerServer.address() as { port: number }).port;
    const connection = closeAfterTest(await dialConnection('tcp', `127.0.0.1:${port}`));
    connection.on('error', () => {});
    // A wait pending when the reset comes, for bytes that never will.
    const pending = connection.reader.waitFor(10);
    await expect(pending).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(connection.reader.next(3).toString()).toBe('abc');
    // A stream cut short is told apart from one that ended: later waits fail the same way.
    await expect(connection.reader.waitFor(1)).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(connection.closeError).toMatchObject({ code: 'ECONNRESET' });
    connection.close();
    await new Promise((resolve) => peerServer.close(resolve));
  });

  it('44: a local close wakes a pending waitFor with ERR_NETPOLL_CONN_CLOSED', async () => {
    const { server, connection, peer } = await acceptedPair();
    const waiting = connection.reader.waitFor(1);
    connection.close();
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_NETPOLL_CONN_CLOSED' });
    await closePair(server, peer);
  });

  it('45: lines split over many segments are found with indexByte across nodes', async () => {
    const { server, connection, peer } = await acceptedPair();
    const text = 'first line\nsecond line\n';
    for (const char of text) peer.write(char);
    await connection.reader.waitFor(text.length);
    expect(connection.reader.until(0x0a).toString()).toBe('first line\n');
    expect(connection.reader.until(0x0a).toString()).toBe('second line\n');
    await closePair(server, peer);
  });

  it('46: waitFor(1) returns as soon as one byte is there; read(target) copies what is buffered', async () => {
    const { server, connection, peer } = await acceptedPair();
    peer.write('hey');
    await connection.reader.waitFor(1);
    await until(() => connection.reader.len() === 3, 'three bytes');
    const target = new Uint8Array(10);
    expect(connection.reader.read(target)).toBe(3);
    expect(Buffer.from(target.subarray(0, 3)).toString()).toBe('hey');
    expect(connection.reader.read(new Uint8Array(0))).toBe(0);
    await closePair(server, peer);
  });

  it('47: messages from 8 MiB down to 1 byte arrive intact', async () => {
    const { server, connection, peer } = await acceptedPair();
    for (let size = 8 * 1024 * 1024; size >= 1; size = Math.floor(size / 4)) {
      const message = Buffer.alloc(size);
      for (let i = 0; i < size; i += 4096) message[i] = (i / 4096 + size) & 0xff;
      message[size - 1] = 0x5a;
      peer.write(message);
      await connection.reader.waitFor(size);
      expect(connection.reader.next(size).equals(message)).toBe(true);
      connection.reader.release();
    }
    await closePair(server, peer);
  });

  it('48: a 1 MiB message written in 1 KiB pieces needs a bounded number of slabs', async () => {
    const { server, connection, peer } = await acceptedPair();
    const before = getReactorStats().inboundSlabs;
    const piece = Buffer.alloc(1024, 1);
    for (let i = 0; i < 1024; i++) peer.write(piece);
    await connection.reader.waitFor(1024 * 1024);
    // 1 MiB held in 256 KiB slabs: at most 4 more slabs (plus one for a partly used slab).
    expect(getReactorStats().inboundSlabs - before).toBeLessThanOrEqual(5);
    connection.reader.skip(1024 * 1024);
    connection.reader.release();
    await closePair(server, peer);
  });
  it('readTime dates input by the batch that read it: one reading for every connection it read', async () => {
    const accepted: Connection[] = [];
    const handled: Array<{ readTime: number; at: number }> = [];
    // Unix sockets: a write is in the peer's queue when it returns (no loopback softirq to wait
    // for), so both inputs are there before this thread's reactor reads again.
    const server = startServer(
      (connection) => {
        handled.push({ readTime: connection.readTime, at: performance.now() });
        connection.reader.skip(connection.reader.len());
        // A slow synchronous handler: a connection read in the same batch waits behind it.
        const end = performance.now() + 20;
        while (performance.now() < end);
      },
      { onConnect: (connection) => void accepted.push(connection) },
      'unix',
    );
    const peers = [0, 1].map(() => destroyAfterTest(connect(server.listener.address)));
    await until(() => accepted.length === 2, 'both connections accepted');
    expect(accepted.map((connection) => connection.readTime)).toEqual([0, 0]);
    const before = performance.now();
    for (const peer of peers) peer.write('x');
    await until(() => handled.length === 2, 'both handled');
    expect(handled[0]!.readTime).toBe(handled[1]!.readTime);
    expect(handled[0]!.readTime).toBeGreaterThanOrEqual(before);
    expect(handled[0]!.readTime).toBeLessThanOrEqual(handled[0]!.at);
    expect(handled[1]!.at - handled[1]!.readTime).toBeGreaterThanOrEqual(20);
    expect(accepted.map((connection) => connection.readTime)).toEqual([
      handled[0]!.readTime,
      handled[0]!.readTime,
    ]);
    for (const peer of peers) peer.destroy();
    await server.stop();
  });
});

describeNative('read backpressure (pauseRead / resumeRead)', () => {
  it('stops reading while paused and delivers everything after resumeRead', async () => {
    const { server, connection, peer } = await acceptedPair();
    connection.pauseRead();
    connection.pauseRead();
    expect(connection.readPaused).toBe(true);
    // Once the write callback ran the bytes are in the kernel; give the loop many turns to poll.
    await new Promise<void>((resolve) => peer.write('held back', () => resolve()));
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(connection.reader.len()).toBe(0);
    connection.resumeRead();
    expect(connection.readPaused).toBe(false);
    await connection.reader.waitFor(9);
    expect(connection.reader.readString(9)).toBe('held back');
    await closePair(server, peer);
  });
});
