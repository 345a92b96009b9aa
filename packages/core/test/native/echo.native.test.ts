import { randomBytes } from 'node:crypto';
import { type Connection, dialConnection, getReactorStats } from '../../src';
import {
  closeAfterTest,
  describeNative,
  echoHandler,
  readExactly,
  startServer,
} from '../helpers/native';

/**
 * Sends `size` random bytes in 256 KiB flushes, one per loop turn, while `client` does not read,
 * so the server's echo meets kernel backpressure and keeps its output (and the slab memory that
 * output refers to) while it reads on. Returns the payload; the client reads again afterwards.
 */
async function sendWhilePaused(client: Connection, size: number): Promise<Buffer> {
  client.pauseRead();
  const payload = randomBytes(size);
  for (let offset = 0; offset < payload.length; offset += 256 * 1024) {
    client.writer.writeBinary(payload.subarray(offset, offset + 256 * 1024));
    client.writer.flush();
    await new Promise((resolve) => setImmediate(resolve));
  }
  client.resumeRead();
  return payload;
}

describeNative('echo over real sockets', () => {
  it.each(['tcp', 'unix'] as const)('round-trips bytes over %s', async (network) => {
    const server = startServer(echoHandler, {}, network);
    const client = closeAfterTest(await dialConnection(network, server.listener.address));
    expect(client.isActive()).toBe(true);
    for (let i = 0; i < 20; i++) {
      const payload = randomBytes(1 + i * 97);
      client.writer.writeBinary(payload);
      client.writer.flush();
      const echoed = await readExactly(client, payload.length);
      expect(echoed.equals(payload)).toBe(true);
    }
    client.close();
    await server.stop();
    expect(server.loop.connectionCount).toBe(0);
  });

  it('moves 4 MiB in one flush intact (EAGAIN path, then drain)', async () => {
    const server = startServer(echoHandler);
    const client = closeAfterTest(await dialConnection('tcp', server.listener.address));
    const payload = randomBytes(4 * 1024 * 1024);
    client.writer.writeBinary(payload);
    client.writer.flush();
    const echoed = await readExactly(client, payload.length);
    expect(echoed.equals(payload)).toBe(true);
    client.close();
    await server.stop();
  });

  it('echoes reader views zero-copy and keeps their slabs pinned while output is blocked', async () => {
    const server = startServer(echoHandler);
    const client = closeAfterTest(await dialConnection('tcp', server.listener.address));
    const payload = await sendWhilePaused(client, 8 * 1024 * 1024);
    const echoed = await readExactly(client, payload.length);
    expect(echoed.equals(payload)).toBe(true);
    client.close();
    await server.stop();
  });

  it('echoes with writer.writeFrom(reader): small copies and large shared slab regions, pinned while output is blocked', async () => {
    const forward = (connection: Connection) => {
      connection.writer.writeFrom(connection.reader, connection.reader.len());
      connection.writer.flush();
    };
    const server = startServer(forward);
    const client = closeAfterTest(await dialConnection('tcp', server.listener.address));
    const small = randomBytes(1000);
    client.writer.writeBinary(small);
    client.writer.flush();
    expect((await readExactly(client, small.length)).equals(small)).toBe(true);
    // 8 MiB while the client does not read: the server's output blocks with the reader's slab
    // regions shared into its writer, and reading goes on into other slabs meanwhile.
    const payload = await sendWhilePaused(client, 8 * 1024 * 1024);
    expect((await readExactly(client, payload.length)).equals(payload)).toBe(true);
    client.close();
    await server.stop();
  });

  it('keeps the steady state at one native→JS call per batch and no JS→native call per message', async () => {
    const server = startServer(echoHandler);
    const client = closeAfterTest(await dialConnection('tcp', server.listener.address));
    const payload = Buffer.alloc(1024, 7);
    // Warm up so every slab and outbound buffer exists.
    for (let i = 0; i < 1500; i++) {
      client.writer.writeBinary(payload);
      client.writer.flush();
      await readExactly(client, payload.length);
    }
    const before = getReactorStats();
    const rounds = 500;
    for (let i = 0; i < rounds; i++) {
      client.writer.writeBinary(payload);
      client.writer.flush();
      await readExactly(client, payload.length);
    }
    const after = getReactorStats();
    expect(after.jsToNativeCalls - before.jsToNativeCalls).toBe(0);
    expect(after.nativeToJsCalls - before.nativeToJsCalls).toBe(after.batches - before.batches);
    expect(after.inboundSlabs).toBe(before.inboundSlabs);
    expect(after.outboundSlabs).toBe(before.outboundSlabs);
    expect(after.bytesWritten - before.bytesWritten).toBe(2 * rounds * payload.length);
    client.close();
    await server.stop();
  });
});

describeNative('late replies', () => {
  it('flushes replies written after an await from the loop hook, without a JS→native call', async () => {
    const server = startServer(async (connection) => {
      const data = connection.reader.readBinary(connection.reader.len());
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setTimeout(resolve, 1));
      connection.writer.writeBinary(data);
      connection.writer.flush();
    });
    const client = closeAfterTest(await dialConnection('tcp', server.listener.address));
    const payload = Buffer.from('later');
    // Warm-up: outbound slabs exist afterwards.
    client.writer.writeBinary(payload);
    client.writer.flush();
    await readExactly(client, payload.length);
    const before = getReactorStats();
    for (let i = 0; i < 20; i++) {
      client.writer.writeBinary(payload);
      client.writer.flush();
      expect((await readExactly(client, payload.length)).equals(payload)).toBe(true);
    }
    const after = getReactorStats();
    expect(after.hookFlushes - before.hookFlushes).toBeGreaterThanOrEqual(20);
    expect(after.jsToNativeCalls - before.jsToNativeCalls).toBe(0);
    client.close();
    await server.stop();
  });
});
