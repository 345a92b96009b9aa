// ESM smoke test of the packed @netpoll packages (see smoke.cjs): named imports from every
// package, which also checks that Node finds the CommonJS builds' named exports, and a real
// @netpoll/core echo server and @netpoll/rpc call. Ends with `smoke.mjs: N passed, N failed`.
import assert from 'node:assert/strict';
import { createListener, dialConnection, EventLoop, isNetpollError } from '@netpoll/core';
import { go } from '@netpoll/gopool';
import { LinkBuffer } from '@netpoll/linkbuffer';
import { free, malloc } from '@netpoll/mcache';
import { createClient, createServer } from '@netpoll/rpc';

const tests = {
  '@netpoll/core: echo server round trip over TCP (ESM)': async () => {
    const loop = new EventLoop(
      (connection) => {
        connection.writer.writeFrom(connection.reader, connection.reader.len());
        connection.writer.flush();
      },
      { framing: { lengthHeader: 4, maxFrameSize: 1 << 20 } },
    );
    const listener = createListener('tcp', '127.0.0.1:0');
    const served = loop.serve(listener);
    const client = await dialConnection('tcp', listener.address, { timeout: 5000 });
    client.writer.writeBinary(Buffer.from([0, 0, 0, 3, 101, 115, 109]));
    client.writer.flush();
    await client.reader.waitFor(7);
    client.reader.skip(4);
    assert.equal(client.reader.readString(3), 'esm');
    client.close();
    await loop.shutdown({ timeout: 5000 });
    await served;
  },
  '@netpoll/core: coded errors': () => {
    assert.throws(
      () => createListener('udp', '127.0.0.1:0'),
      (error) => isNetpollError(error) && error.code === 'ERR_NETPOLL_INVALID_ARG',
    );
  },
  'the other packages by named import': async () => {
    free(malloc(64));
    const buffer = new LinkBuffer();
    buffer.writeString('ok');
    buffer.flush();
    assert.equal(buffer.readString(2), 'ok');
    assert.equal(await new Promise((resolve) => go(async () => resolve('ran'))), 'ran');
    const server = createServer({ upper: (request) => Buffer.from(String(request).toUpperCase()) });
    await server.listen('127.0.0.1:0');
    const client = createClient(server.address, { timeout: 5000 });
    assert.equal(String(await client.call('upper', Buffer.from('esm'))), 'ESM');
    await client.close();
    await server.close();
  },
};

const watchdog = setTimeout(() => {
  console.log('not ok smoke.mjs: still running after 60 s');
  process.exit(1);
}, 60_000);
watchdog.unref();
let passed = 0;
let failed = 0;
for (const [name, fn] of Object.entries(tests)) {
  try {
    await fn();
    passed++;
    console.log(`ok ${name}`);
  } catch (error) {
    failed++;
    console.log(`not ok ${name}: ${error?.stack ?? error}`);
  }
}
console.log(`smoke.mjs: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
