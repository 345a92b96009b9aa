// Worker body for fairness.native.test.ts: a worker thread has its own reactor, so the small
// inbound memory configured here cannot affect other test files.
//
// 'slow-reader': an echo server whose handler ignores `writable` (it echoes every frame with
//   writeFrom), one peer that sends 64 MiB of 64 KiB frames and never reads, and 20 other peers
//   doing 1 KiB round trips meanwhile. Every round trip must complete.
// 'big-echo': one dialed connection echoes 48 MiB through an echo server on the same reactor,
//   with 32 MiB of inbound memory (client and server reads share the slabs): it must complete or
//   fail with a coded error, never stall.

const { parentPort, workerData } = require('node:worker_threads');
const diagnostics = require('node:diagnostics_channel');
const net = require('node:net');
const core = require('../../dist/index.js');
const { until, untilQuiet } = require('./loop-turns');

function frame(payload) {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length);
  return Buffer.concat([header, payload]);
}

function connect(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

async function slowReader() {
  core.configureReactor({ maxInboundMemory: 8 << 20 });
  let slowSide = null;
  const loop = new core.EventLoop(
    (connection) => {
      connection.writer.writeFrom(connection.reader, connection.reader.len());
      connection.writer.flush();
    },
    {
      framing: { lengthHeader: 4, maxFrameSize: 1 << 20 },
      onConnect: (connection) => {
        slowSide ??= connection;
      },
    },
  );
  const listener = core.createListener('tcp', '127.0.0.1:0');
  const served = loop.serve(listener);

  const slow = await connect(listener.port);
  slow.pause();
  slow.on('error', () => {});
  const chunk = frame(Buffer.alloc(64 << 10, 0x53));
  let sentSlow = 0;
  const pushSlow = () => {
    while (sentSlow < 64 << 20) {
      sentSlow += chunk.length;
      if (!slow.write(chunk)) return;
    }
  };
  slow.on('drain', pushSlow);
  pushSlow();
  // Wait until the slow peer can push no more: nothing moves on the reactor any more.
  await untilQuiet(core.getReactorStats, () => slowSide !== null, 'the slow peer is held back');

  const payload = frame(Buffer.alloc(1024, 0x61));
  const others = await Promise.all(Array.from({ length: 20 }, () => connect(listener.port)));
  let roundTrips = 0;
  for (const socket of others) {
    let done = 0;
    let buffered = 0;
    socket.on('data', (data) => {
      buffered += data.length;
      while (buffered >= payload.length) {
        buffered -= payload.length;
        roundTrips++;
        if (++done < 20) socket.write(payload);
      }
    });
    socket.write(payload);
  }
  // Bounded by loop turns: a starved reactor makes this fail fast instead of hanging.
  await until(() => roundTrips === 20 * 20, 'every round trip of the other peers').catch(() => {});
  const stats = core.getReactorStats();
  const report = {
    roundTrips,
    slowPaused: slowSide.readPaused,
    slowPending: slowSide.pendingBytes,
    inboundSlabs: stats.inboundSlabs,
  };
  for (const socket of others) socket.destroy();
  slow.destroy();
  await loop.shutdown({ timeout: 100 });
  await served;
  return report;
}

async function bigEcho() {
  core.configureReactor({ maxInboundMemory: 32 << 20 });
  let evacuatedBytes = 0;
  const onStall = (message) => {
    evacuatedBytes += message.evacuatedBytes;
  };
  diagnostics.subscribe('netpoll:reactor:stall', onStall);
  const loop = new core.EventLoop((connection) => {
    connection.writer.writeFrom(connection.reader, connection.reader.len());
    connection.writer.flush();
  });
  const listener = core.createListener('tcp', '127.0.0.1:0');
  const served = loop.serve(listener);
  const size = 48 << 20;
  const sent = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += 4096) sent.writeUInt32BE(i, i);
  const client = await core.dialConnection('tcp', listener.address);
  client.writer.writeBinary(sent);
  client.writer.flush();
  let outcome;
  try {
    await client.reader.waitFor(size);
    outcome = client.reader.readBinary(size).equals(sent) ? 'echoed' : 'corrupted';
  } catch (error) {
    outcome = error.code ?? String(error);
  }
  client.close();
  diagnostics.unsubscribe('netpoll:reactor:stall', onStall);
  await loop.shutdown({ timeout: 100 });
  await served;
  return { outcome, evacuatedBytes, stats: core.getReactorStats() };
}

const scenarios = { 'slow-reader': slowReader, 'big-echo': bigEcho };
scenarios[workerData.scenario]().then(
  (report) => parentPort.postMessage(report),
  (error) => parentPort.postMessage({ error: String(error?.stack ?? error) }),
);
