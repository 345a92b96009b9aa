// Worker body for slab-exhaustion.native.test.ts. A worker thread has its own reactor, so the
// tiny inbound memory configured here (4 slabs of 16 KiB) cannot affect other test files.
//
// Phase 1: the server keeps a slice of everything it receives, so every slab stays referenced
// and reading must stall. The worker waits (loop turns, never time) until every connection is
// parked and the counters stay still, then counts reactor batches over 200 more loop turns: a
// busy loop would run about one batch per turn. Phase 2: the slices are copied out and released; every byte must then arrive,
// in order, on the right connection.

const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const core = require('../../dist/index.js');
const { turn, until, untilQuiet } = require('./loop-turns');

const kSlab = 16 * 1024;
const kMaxFrame = 100 * 1024;
core.configureReactor({ inboundSlabSize: kSlab, maxInboundMemory: 4 * kSlab });

// The bytes client `id` sends: a pattern whose period (251) is prime to every chunk size, so a
// reordered or repeated chunk shows. With framing, the pattern is cut into length-prefixed frames
// of varied sizes (some above the 64 KiB read size, which take the native carry path).
function stream(id, size, framing) {
  const payload = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) payload[i] = (i % 251) ^ id;
  if (!framing) return payload;
  const parts = [];
  let seed = id + 1;
  for (let offset = 0; offset < size; ) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const pick = seed % 5;
    const wanted = [1, 300, 5000, 15000, 70000][pick];
    const length = Math.min(wanted, size - offset);
    const header = Buffer.allocUnsafe(4);
    header.writeUInt32BE(length);
    parts.push(header, payload.subarray(offset, offset + length));
    offset += length;
  }
  return Buffer.concat(parts);
}

async function main() {
  const { connections, bytes, framing } = workerData;
  let holding = true;
  const byPort = new Map();
  const loop = new core.EventLoop(
    (connection, state) => {
      const reader = connection.reader;
      if (holding) state.held.push(reader.slice(reader.len()));
      else state.received.push(reader.readBinary(reader.len()));
    },
    {
      framing: framing ? { lengthHeader: 4, maxFrameSize: kMaxFrame } : null,
      onPrepare: (connection) => {
        const state = { held: [], received: [] };
        byPort.set(Number(connection.remoteAddress.split(':').pop()), state);
        return state;
      },
    },
  );
  const listener = core.createListener('tcp', '127.0.0.1:0');
  const served = loop.serve(listener);

  const clients = [];
  for (let id = 0; id < connections; id++) {
    const socket = net.connect(listener.port, '127.0.0.1');
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const sent = stream(id, bytes, framing);
    socket.write(sent);
    clients.push({ socket, sent, port: socket.localPort });
  }

  const stats = () => core.getReactorStats();
  const parked = () => stats().readStalls - stats().readResumes;
  await untilQuiet(
    stats,
    () => parked() === connections,
    'every connection parked and the reactor quiet',
  );
  const before = stats();
  for (let i = 0; i < 200; i++) await turn();
  const after = stats();
  let heldBytes = 0;
  for (const state of byPort.values()) {
    for (const slice of state.held) heldBytes += slice.len();
  }

  // Phase 2: copy the held bytes out (in order) and release the slices.
  holding = false;
  for (const state of byPort.values()) {
    for (const slice of state.held) {
      state.received.push(slice.readBinary(slice.len()));
      slice.close();
    }
    state.held = [];
  }
  const total = (state) => state.received.reduce((sum, chunk) => sum + chunk.length, 0);
  await until(
    () => clients.every((client) => total(byPort.get(client.port)) >= client.sent.length),
    'every byte delivered',
  );
  const intact = clients.map((client) =>
    Buffer.concat(byPort.get(client.port).received).equals(client.sent),
  );
  const end = stats();
  for (const client of clients) client.socket.destroy();
  await loop.shutdown({ timeout: 1000 });
  await served;
  parentPort.postMessage({
    intact,
    heldBytes,
    idle: {
      batches: after.batches - before.batches,
      events: after.events - before.events,
      reads: after.reads - before.reads,
      nativeToJsCalls: after.nativeToJsCalls - before.nativeToJsCalls,
    },
    readStalls: end.readStalls,
    readResumes: end.readResumes,
    inboundSlabs: end.inboundSlabs,
  });
}

main().catch((error) => {
  parentPort.postMessage({ error: String(error?.stack ?? error) });
});
