// CommonJS smoke test of the packed @netpoll packages, run in a fresh project that installed the
// tarballs (tooling/scripts/release-smoke.js): require() each package and use it, with a real
// @netpoll/core echo server on 127.0.0.1. NETPOLL_SMOKE_BINARY, when set, is the path fragment
// the loaded addon's file must contain (the prebuilt package, or build/Release after a build
// from source). Ends with `smoke.cjs: N passed, N failed`.
const assert = require('node:assert/strict');
const core = require('@netpoll/core');
const { capacityOf, free, malloc } = require('@netpoll/mcache');
const { LinkBuffer } = require('@netpoll/linkbuffer');
const { go } = require('@netpoll/gopool');
const { createClient, createServer } = require('@netpoll/rpc');
const { echo, runTests } = require('./run-tests.cjs');

const tests = {
  '@netpoll/core: echo server round trip over TCP': async () => {
    const text = 'hello from a packed @netpoll/core';
    assert.equal(await echo(core, text), text);
    assert.ok(core.getReactorStats().batches > 0);
  },
  '@netpoll/core: the addon comes from the expected place': () => {
    const loaded = Object.keys(require.cache).filter((file) => file.endsWith('.node'));
    assert.equal(loaded.length, 1, `loaded addons: ${loaded.join(', ')}`);
    const expected = process.env.NETPOLL_SMOKE_BINARY;
    if (expected) assert.ok(loaded[0].includes(expected), `${loaded[0]} lacks ${expected}`);
    console.log(`# addon: ${loaded[0]}`);
  },
  '@netpoll/mcache: malloc and free': () => {
    const buffer = malloc(5);
    assert.equal(buffer.length, 5);
    assert.equal(capacityOf(buffer), 8);
    free(buffer);
  },
  '@netpoll/linkbuffer: a length-header frame': () => {
    const buffer = new LinkBuffer();
    buffer.malloc(4).writeUInt32BE(buffer.writeString('frame'));
    buffer.flush();
    const length = buffer.readUint32BE();
    assert.equal(buffer.readString(length), 'frame');
    buffer.close();
  },
  '@netpoll/gopool: go() runs a task': async () => {
    assert.equal(await new Promise((resolve) => go(async () => resolve(42))), 42);
  },
  '@netpoll/rpc: a call over @netpoll/core': async () => {
    const server = createServer({ echo: (request) => request });
    await server.listen('127.0.0.1:0');
    const client = createClient(server.address, { timeout: 5000 });
    assert.equal(String(await client.call('echo', Buffer.from('rpc'))), 'rpc');
    await client.close();
    await server.close();
  },
};

runTests('smoke.cjs', tests);
