/**
 * Conformance items 49–54 (netpoll's connection writing behaviours), adapted: `flush()`
 * never blocks here, so a write timeout is the time output stays under kernel backpressure.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { type Connection, dialConnection, getReactorStats } from '../../src';
import {
  afterTest,
  closeAfterTest,
  deferred,
  describeNative,
  destroyAfterTest,
  until,
} from '../helpers/native';

/**
 * A node:net peer that hands its socket to the test (paused: it reads nothing until resumed).
 * The server and its socket are closed after the test.
 */
async function rawPeer(): Promise<{ server: Server; port: number; socket: Promise<Socket> }> {
  const accepted = deferred<Socket>();
  const server = createServer({ pauseOnConnect: true }, (socket) =>
    accepted.resolve(destroyAfterTest(socket)),
  );
  afterTest(() => new Promise((resolve) => server.close(resolve)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, socket: accepted.promise };
}

function collect(socket: Socket, length: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= length) resolve(Buffer.concat(chunks));
    });
    socket.resume();
  });
}

describeNative('connection writing (49–54)', () => {
  it('49: output stuck under backpressure past writeTimeout closes with ERR_NETPOLL_WRITE_TIMEOUT', async () => {
    const peer = await rawPeer();
    const connection = closeAfterTest(
      await dialConnection('tcp', `127.0.0.1:${peer.port}`, { writeTimeout: 50 }),
    );
    await peer.socket;
    const closed = deferred<Error | null>();
    connection.on('close', (error: Error | null) => closed.resolve(error));
    connection.on('error', () => {});
    connection.writer.writeBinary(Buffer.alloc(32 * 1024 * 1024, 1));
    connection.writer.flush();
    const error = await closed.promise;
    expect(error).toMatchObject({ code: 'ERR_NETPOLL_WRITE_TIMEOUT', timeout: true });
    expect(connection.isActive()).toBe(false);
    // It closes at once, without lingering: a peer that read nothing for writeTimeout would only
    // keep a copy of the output, and the fd, for another lingerTimeout. (Native resets such a
    // peer; its own suite checks the RST: a paused node:net socket reports it as an end.)
    expect(getReactorStats().lingering).toBe(0);
    const socket = await peer.socket;
    let received = 0;
    const ended = new Promise<void>((resolve) => {
      socket.on('error', () => resolve());
      socket.on('end', () => resolve());
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    socket.resume();
    await ended;
    expect(received).toBeLessThan(32 * 1024 * 1024);
    expect(getReactorStats().lingering).toBe(0);
    socket.destroy();
    await new Promise((resolve) => peer.server.close(resolve));
  });

  it('50: a second concurrent waitFor fails with ERR_NETPOLL_CONCURRENT_ACCESS', async () => {
    const peer = await rawPeer();
    const connection = closeAfterTest(await dialConnection('tcp', `127.0.0.1:${peer.port}`));
    const first = connection.reader.waitFor(1);
    await expect(connection.reader.waitFor(1)).rejects.toMatchObject({
      code: 'ERR_NETPOLL_CONCURRENT_ACCESS',
      message: 'concurrent connection access when wait read',
    });
    connection.close();
    await expect(first).rejects.toMatchObject({ code: 'ERR_NETPOLL_CONN_CLOSED' });
    (await peer.socket).destroy();
    await new Promise((resolve) => peer.server.close(resolve));
  });

  it('51: after close every writer call fails with ERR_NETPOLL_CONN_CLOSED', async () => {
    const peer = await rawPeer();
    const connection = closeAfterTest(await dialConnection('tcp', `127.0.0.1:${peer.port}`));
    const writer = connection.writer;
    connection.close();
    const calls: Array<[string, () => unknown]> = [
      ['malloc', () => writer.malloc(4)],
      ['reserve', () => writer.reserve(4)],
      ['mallocAck', () => writer.mallocAck(0)],
      ['writeBinary', () => writer.writeBinary(Buffer.from('x'))],
      ['writeString', () => writer.writeString('x')],
      ['writeByte', () => writer.writeByte(1)],
      ['writeDirect', () => writer.writeDirect(Buffer.from('x'), 0)],
      ['append', () => writer.append(null)],
      ['writeFrom', () => writer.writeFrom(connection.reader, 0)],
      ['flush', () => writer.flush()],
    ];
    for (const [name, call] of calls) {
      expect({ name, error: captured(call) }).toMatchObject({
        name,
        error: { code: 'ERR_NETPOLL_CONN_CLOSED' },
      });
    }
    expect(captured(() => writer.flush())).toMatchObject({
      message: 'connection has been closed when flush',
    });
    (await peer.socket).destroy();
    await new Promise((resolve) => peer.server.close(resolve));
  });

  it('52: 64 rounds of malloc(256 KiB) + flush to a slow reader complete through the writable path', async () => {
    const peer = await rawPeer();
    const connection = closeAfterTest(await dialConnection('tcp', `127.0.0.1:${peer.port}`));
    const socket = await peer.socket;
    const size = 256 * 1024;
    const rounds = 64;
    let drains = 0;
    connection.on('drain', () => drains++);
    for (let round = 0; round < rounds; round++) {
      connection.writer.malloc(size).fill(round);
      connection.writer.flush();
    }
    const received = await collect(socket, size * rounds);
    for (let round = 0; round < rounds; round++) {
      expect(received[round * size]).toBe(round);
      expect(received[round * size + size - 1]).toBe(round);
    }
    await until(() => connection.pendingBytes === 0, 'all output acknowledged');
    expect(drains).toBeGreaterThanOrEqual(1);
    connection.close();
    socket.destroy();
    await new Promise((resolve) => peer.server.close(resolve));
  });

  it('reserve(n) is malloc without a view: bytes filled at its offset in writer.reserved reach the peer in order', async () => {
    const peer = await rawPeer();
    const connection = closeAfterTest(await dialConnection('tcp', `127.0.0.1:${peer.port}`));
    const socket = await peer.socket;
    const writer = connection.writer;
    const expected: number[] = [];
    for (let round = 0; round < 40; round++) {
      // 1 KiB writer nodes: sizes around that force new nodes part of the time.
      const size = 100 + round * 37;
      const at = writer.reserve(size);
      writer.reserved.fill(round, at, at + size);
      expected.push(...Array(size).fill(round));
      writer.writeBinary(Buffer.from([0xee]));
      expected.push(0xee);
      if (round % 7 === 6) writer.flush();
    }
    writer.flush();
    const received = await collect(socket, expected.length);
    expect(Buffer.compare(received, Buffer.from(expected))).toBe(0);
    connection.close();
    socket.destroy();
    await new Promise((resolve) => peer.server.close(resolve));
  });

  it('53: a Buffer can be reused right after flush without corrupting what is sent', async () => {
    const peer = await rawPeer();
    const connection = closeAfterTest(await dialConnection('tcp', `127.0.0.1:${peer.port}`));
    const socket = await peer.socket;
    const payload = randomBytes(64 * 1024);
    const expected = Buffer.from(payload);
    expect(connection.writer.writeBinary(payload)).toBe(payload.length);
    connection.writer.flush();
    payload.fill(0);
    const received = await collect(socket, expected.length);
    expect(received.equals(expected)).toBe(true);
    connection.close();
    socket.destroy();
    await new Promise((resolve) => peer.server.close(resolve));
  });

  it('54: setIdleTimeout enables keep-alive for ≥ 1000 ms and is a no-op below', async () => {
    const peer = await rawPeer();
    const connection: Connection = closeAfterTest(
      await dialConnection('tcp', `127.0.0.1:${peer.port}`),
    );
    connection.setIdleTimeout(500);
    expect(connection.idleTimeout).toBe(0);
    connection.setIdleTimeout(2500);
    expect(connection.idleTimeout).toBe(2500);
    connection.close();
    (await peer.socket).destroy();
    await new Promise((resolve) => peer.server.close(resolve));
  });
});

function captured(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  return undefined;
}
