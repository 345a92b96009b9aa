// Worker body for slab-table.native.test.ts. A worker thread has its own reactor, so filling its
// slab table cannot affect other test files.
//
// The reactor's table of registered slabs (1024 entries) is filled with dedicated outbound
// buffers held here, as output queued for many slow peers would. Each client then asks for a
// reply the server writes in two ways that both need registered memory at flush: a large
// `malloc` (a node of its own) and a zero-copy `writeBinary` of a user Buffer. One connection
// closes right after its flush. While the table is full nothing may throw or be sent; once the
// held buffers are freed every reply must arrive whole, and the closed connection's before EOF.

const { parentPort } = require('node:worker_threads');
const net = require('node:net');
const core = require('../../dist/index.js');
const { getReactor } = require('../../dist/get-reactor.js');
const { turn, until } = require('./loop-turns');

const kMalloc = 150 * 1024;
const kUser = 100 * 1024;
const kClients = 3;

function reply(id) {
  const bytes = Buffer.alloc(kMalloc + kUser);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i % 251) ^ id;
  return bytes;
}

async function main() {
  const thrown = [];
  const writableAfterFlush = [];
  const loop = new core.EventLoop((connection) => {
    const reader = connection.reader;
    const id = reader.readByte();
    const closeAfter = reader.readByte() === 1;
    const expected = reply(id);
    try {
      expected.copy(connection.writer.malloc(kMalloc), 0, 0, kMalloc);
      connection.writer.writeBinary(expected.subarray(kMalloc));
      connection.writer.flush();
    } catch (error) {
      thrown.push(error.code ?? String(error));
    }
    writableAfterFlush.push(connection.writable);
    if (closeAfter) connection.close();
  });
  const listener = core.createListener('tcp', '127.0.0.1:0');
  const served = loop.serve(listener);

  // Fill the table: dedicated buffers (above a quarter of a 256 KiB slab) each take an entry.
  const reactor = getReactor();
  const held = [];
  for (;;) {
    let buffer;
    try {
      buffer = reactor.outbound.allocate(128 * 1024);
    } catch {
      break; // before unregistered fallback memory existed, a full table threw ENOSPC here
    }
    if (reactor.outbound.slabIndexOf(buffer.buffer) < 0) break;
    held.push(buffer);
  }

  const clients = [];
  for (let id = 1; id <= kClients; id++) {
    const socket = net.connect(listener.port, '127.0.0.1');
    const client = { id, chunks: [], bytes: 0, ended: false, socket };
    socket.on('data', (chunk) => {
      client.chunks.push(chunk);
      client.bytes += chunk.length;
    });
    socket.on('end', () => {
      client.ended = true;
    });
    socket.on('error', () => {});
    socket.write(Buffer.from([id, id === kClients ? 1 : 0]));
    clients.push(client);
  }
  await until(() => writableAfterFlush.length === kClients, 'every request handled');
  for (let i = 0; i < 50; i++) await turn();
  const receivedWhileFull = clients.map((client) => client.bytes);
  const stalls = core.getReactorStats().outputStalls;

  for (const buffer of held) reactor.outbound.free(buffer);
  const total = kMalloc + kUser;
  let deliveredAll = true;
  try {
    await until(
      () => clients.every((client) => client.bytes >= total) && clients[kClients - 1].ended,
      'every reply delivered',
    );
  } catch {
    deliveredAll = false;
  }
  const intact = clients.map((client) => Buffer.concat(client.chunks).equals(reply(client.id)));
  for (const client of clients) client.socket.destroy();
  await loop.shutdown({ timeout: 1000 });
  await served.catch(() => {});
  parentPort.postMessage({
    held: held.length,
    thrown,
    writableAfterFlush,
    receivedWhileFull,
    stalls,
    deliveredAll,
    closedEnded: clients[kClients - 1].ended,
    intact,
  });
}

main().catch((error) => parentPort.postMessage({ error: String(error?.stack ?? error) }));
