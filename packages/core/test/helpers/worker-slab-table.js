// Worker body for slab-table.native.test.ts. A worker thread has its own reactor, so the memory
// held here cannot affect other test files.
//
// Output queued for many slow peers registers one outbound buffer per large write. 1500 of them
// are held here (more than the 1024 slabs a reactor could once register in all, inbound
// included); a client then asks for a reply the server writes in two ways that register memory
// at flush: a large `malloc` (a node of its own) and a zero-copy `writeBinary` of a user Buffer.
// Nothing may throw, and the reply must arrive whole while the buffers are still held.

const { parentPort } = require('node:worker_threads');
const net = require('node:net');
const core = require('../../dist/index.js');
const { getReactor } = require('../../dist/get-reactor.js');
const { until } = require('./loop-turns');

const kMalloc = 150 * 1024;
const kUser = 100 * 1024;
const kHeld = 1500;

function reply() {
  const bytes = Buffer.alloc(kMalloc + kUser);
  for (let i = 0; i < bytes.length; i++) bytes[i] = i % 251;
  return bytes;
}

async function main() {
  const thrown = [];
  const expected = reply();
  const loop = new core.EventLoop((connection) => {
    connection.reader.skip(connection.reader.len());
    try {
      expected.copy(connection.writer.malloc(kMalloc), 0, 0, kMalloc);
      connection.writer.writeBinary(expected.subarray(kMalloc));
      connection.writer.flush();
    } catch (error) {
      thrown.push(error.code ?? String(error));
    }
  });
  const listener = core.createListener('tcp', '127.0.0.1:0');
  const served = loop.serve(listener);

  // Buffers above a quarter of a 256 KiB outbound slab are registered on their own.
  const reactor = getReactor();
  const held = [];
  const indices = new Set();
  let registerError = null;
  try {
    for (let i = 0; i < kHeld; i++) {
      const buffer = reactor.outbound.allocate(64 * 1024 + 8);
      held.push(buffer);
      indices.add(reactor.outbound.slabIndexOf(buffer.buffer));
    }
  } catch (error) {
    registerError = error.code ?? String(error); // ENOSPC once a reactor's 1024 slabs were taken
  }

  const socket = net.connect(listener.port, '127.0.0.1');
  const chunks = [];
  let received = 0;
  socket.on('data', (chunk) => {
    chunks.push(chunk);
    received += chunk.length;
  });
  socket.on('error', () => {});
  socket.write('go');
  let delivered = true;
  try {
    await until(() => received >= expected.length || thrown.length > 0, 'the reply delivered');
  } catch {
    delivered = false;
  }
  const intact = Buffer.concat(chunks).equals(expected);
  const registeredWhileHeld = core.getReactorStats().outboundSlabs;
  for (const buffer of held) reactor.outbound.free(buffer);
  const registeredAfter = core.getReactorStats().outboundSlabs;
  socket.destroy();
  await loop.shutdown({ timeout: 1000 });
  await served.catch(() => {});
  parentPort.postMessage({
    registerError,
    held: held.length,
    distinct: indices.size,
    allRegistered: [...indices].every((index) => index >= 0),
    thrown,
    delivered,
    intact,
    unregistered: registeredWhileHeld - registeredAfter,
  });
}

main().catch((error) => parentPort.postMessage({ error: String(error?.stack ?? error) }));
