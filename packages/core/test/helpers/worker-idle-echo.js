// Worker body for idle-output.native.test.ts. A worker thread has its own reactor, so the tiny
// inbound memory configured here (4 slabs of 16 KiB, and no growth beyond) cannot affect other
// test files.
//
// Phase 1: 24 connections each send one 3000-byte message, which the server answers with
// writer.writeFrom(reader) — the reply shares the reader's slab region — and then stay open and
// quiet. Phase 2: one more connection streams 1 MiB through the same 64 KiB of slabs. That only
// works if the quiet connections let go of their regions once their replies were written;
// otherwise every slab stays pinned and the stream stalls for good.

const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const core = require('../../dist/index.js');
const { until } = require('./loop-turns');

const kSlab = 16 * 1024;
core.configureReactor({ inboundSlabSize: kSlab, maxInboundMemory: 4 * kSlab });

function connect(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function received(socket) {
  const chunks = [];
  socket.on('data', (chunk) => chunks.push(chunk));
  return () => Buffer.concat(chunks);
}

async function main() {
  const { quiet, streamBytes } = workerData;
  const loop = new core.EventLoop((connection) => {
    connection.writer.writeFrom(connection.reader, connection.reader.len());
    connection.writer.flush();
  });
  const listener = core.createListener('tcp', '127.0.0.1:0');
  const served = loop.serve(listener);

  const quietSockets = [];
  const intact = [];
  for (let id = 0; id < quiet; id++) {
    const socket = await connect(listener.port);
    const echoed = received(socket);
    const message = Buffer.alloc(3000, id + 1);
    socket.write(message);
    await until(() => echoed().length === message.length, `echo on quiet connection ${id}`);
    intact.push(echoed().equals(message));
    quietSockets.push(socket);
  }

  const before = core.getReactorStats();
  const streamer = await connect(listener.port);
  const echoed = received(streamer);
  const payload = Buffer.allocUnsafe(streamBytes);
  for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
  streamer.write(payload);
  let error;
  try {
    await until(() => echoed().length >= payload.length, 'the stream echoed in full');
  } catch (caught) {
    error = caught.message;
  }
  const after = core.getReactorStats();
  parentPort.postMessage({
    error,
    intact,
    streamIntact: echoed().equals(payload),
    inboundSlabs: after.inboundSlabs,
    stallsWhileStreaming: after.readStalls - before.readStalls,
    resumesWhileStreaming: after.readResumes - before.readResumes,
  });
  for (const socket of [...quietSockets, streamer]) socket.destroy();
  await loop.shutdown({ timeout: 1000 });
  await served;
}

main().catch((error) => parentPort.postMessage({ error: String(error?.stack ?? error) }));
