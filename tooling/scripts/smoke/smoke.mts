// TypeScript smoke test of the packed @netpoll packages, compiled with `module: nodenext` and
// `skipLibCheck: false` (tsconfig.json here), so the shipped declarations are type-checked as an
// ESM consumer sees them; then run (out/smoke.mjs). Ends with `smoke.mts: N passed, N failed`.
import assert from 'node:assert/strict';
import {
  type Connection,
  createListener,
  dialConnection,
  EventLoop,
  type EventLoopOptions,
  getReactorStats,
  type ReactorStats,
} from '@netpoll/core';
import { Pool } from '@netpoll/gopool';
import { LinkBuffer } from '@netpoll/linkbuffer';
import { type BufferCache, defaultCache } from '@netpoll/mcache';
import { createClient, createServer, type RpcClient } from '@netpoll/rpc';
// The shared runner (compiled beside this file: allowJs in tsconfig.json).
import { runTests } from './run-tests.cjs';

async function echo(text: string): Promise<string> {
  const options: EventLoopOptions = { framing: { lengthHeader: 4, maxFrameSize: 1 << 20 } };
  const loop = new EventLoop((connection: Connection) => {
    connection.writer.writeFrom(connection.reader, connection.reader.len());
    connection.writer.flush();
  }, options);
  const listener = createListener('tcp', '127.0.0.1:0');
  const served: Promise<void> = loop.serve(listener);
  const client: Connection = await dialConnection('tcp', listener.address, { timeout: 5000 });
  const payload = Buffer.from(text);
  client.writer.writeUint32BE(payload.length);
  client.writer.writeBinary(payload);
  client.writer.flush();
  await client.reader.waitFor(4 + payload.length);
  const length: number = client.reader.readUint32BE();
  const echoed: string = client.reader.readString(length);
  client.close();
  await loop.shutdown({ timeout: 5000 });
  await served;
  return echoed;
}

const tests: Record<string, () => Promise<void> | void> = {
  '@netpoll/core: typed echo server round trip': async () => {
    assert.equal(await echo('typed'), 'typed');
    const stats: ReactorStats = getReactorStats();
    assert.ok(stats.batches > 0);
  },
  'the other packages, typed': async () => {
    const cache: BufferCache = defaultCache;
    cache.free(cache.malloc(16));
    const buffer = new LinkBuffer();
    buffer.writeString('ts');
    buffer.flush();
    assert.equal(buffer.readString(2), 'ts');
    const pool: Pool = new Pool('smoke', { cap: 1 });
    assert.equal(
      await new Promise<string>((resolve) => pool.go(async () => resolve('ran'))),
      'ran',
    );
    const server = createServer({ echo: (request: Buffer) => request });
    await server.listen('127.0.0.1:0');
    const client: RpcClient = createClient(server.address, { timeout: 5000 });
    assert.equal(String(await client.call('echo', Buffer.from('nodenext'))), 'nodenext');
    await client.close();
    await server.close();
  },
};

await runTests('smoke.mts', tests);
