// ESM smoke test of the packed @netpoll packages (see smoke.cjs): named imports from every
// package, which also checks that Node finds the CommonJS builds' named exports, and a real
// @netpoll/core echo server and @netpoll/rpc call. Ends with `smoke.mjs: N passed, N failed`.
import assert from 'node:assert/strict';
import { createListener, dialConnection, EventLoop, isNetpollError } from '@netpoll/core';
import { go } from '@netpoll/gopool';
import { LinkBuffer } from '@netpoll/linkbuffer';
import { free, malloc } from '@netpoll/mcache';
import { createClient, createServer } from '@netpoll/rpc';
import { echo, runTests } from './run-tests.cjs';

const tests = {
  '@netpoll/core: echo server round trip over TCP (ESM)': async () => {
    assert.equal(await echo({ createListener, dialConnection, EventLoop }, 'esm'), 'esm');
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

await runTests('smoke.mjs', tests);
