// Worker body for the "user code closed connection.reader" cases in
// lifecycle-shutdown.native.test.ts. A worker thread has its own reactor, so the tiny inbound
// memory configured here (4 slabs of 16 KiB) cannot affect other test files, and a slab region
// leaked by a closed reader would pin memory the healthy connection at the end needs: its echo
// would then never complete.
//
// 1. Server handlers that close their reader ('!c') or append it into the writer ('!a').
// 2. Dialed clients that close their own reader, then receive an 8 KiB echo.
// 3. A healthy client echoes 256 KiB through the same reactor.
// 4. A peer that sends 16 MiB and never reads cannot take the inbound memory from another client:
//    its connection stops reading, and another client's echo goes through, before and after the
//    server closes the hog.

const { parentPort } = require('node:worker_threads');
const net = require('node:net');
const core = require('../../dist/index.js');
const { until } = require('./loop-turns');

core.configureReactor({ inboundSlabSize: 16 * 1024, maxInboundMemory: 64 * 1024 });

async function main() {
  const serverErrors = [];
  let newest = null;
  const loop = new core.EventLoop(
    (connection) => {
      const { reader, writer } = connection;
      if (reader.len() >= 2 && reader.peek(1)[0] === 0x21) {
        const mode = String.fromCharCode(reader.peek(2)[1]);
        if (mode === 'c') reader.close();
        if (mode === 'a') {
          writer.append(reader);
          writer.flush();
        }
        return;
      }
      writer.writeFrom(reader, reader.len());
      writer.flush();
    },
    {
      onError: (error) => serverErrors.push(error.code),
      onConnect: (connection) => {
        newest = connection;
      },
    },
  );
  const listener = core.createListener('tcp', '127.0.0.1:0');
  const served = loop.serve(listener);

  // 1. Handlers that close their reader: each connection closes with ERR_NETPOLL_CLOSED; the
  // appending one first sends what it appended.
  const closer = await core.dialConnection('tcp', listener.address);
  const appender = await core.dialConnection('tcp', listener.address);
  closer.writer.writeString('!c');
  closer.writer.flush();
  appender.writer.writeString('!a');
  appender.writer.flush();
  await until(() => !closer.isActive() && !appender.isActive(), 'both server sides closed');
  const appended = appender.reader.readString(appender.reader.len());
  closer.close();
  appender.close();

  // 2. Clients that close their own reader before their echo arrives.
  const clientErrors = [];
  const payload = Buffer.alloc(8 * 1024, 0x5a);
  for (let i = 0; i < 16; i++) {
    const client = await core.dialConnection('tcp', listener.address);
    client.on('close', (error) => clientErrors.push(error?.code ?? null));
    client.reader.close();
    client.writer.writeBinary(payload);
    client.writer.flush();
  }
  await until(() => clientErrors.length === 16, 'every reader-closed client closed');

  // 3. A healthy echo of 256 KiB through the 64 KiB of inbound memory.
  const healthy = await core.dialConnection('tcp', listener.address);
  const sent = Buffer.allocUnsafe(256 * 1024);
  for (let i = 0; i < sent.length; i++) sent[i] = i % 251;
  let offset = 0;
  const received = [];
  await until(() => {
    if (offset < sent.length && healthy.writable) {
      healthy.writer.writeBinary(sent.subarray(offset, offset + 4096));
      healthy.writer.flush();
      offset += 4096;
    }
    const n = healthy.reader.len();
    if (n > 0) received.push(healthy.reader.readBinary(n));
    healthy.reader.release();
    return received.reduce((sum, chunk) => sum + chunk.length, 0) >= sent.length;
  }, 'the healthy echo of 256 KiB');
  healthy.close();

  // 4. A peer that sends 16 MiB and never reads: its server connection stops reading (its echo
  // is unsent, later echoes are copied instead of pinning slabs), so a second client's echo still
  // goes through the 64 KiB of inbound memory; closing the hog frees what it held at once.
  const connect = () =>
    new Promise((resolve) => {
      const socket = net.connect(listener.port, '127.0.0.1', () => resolve(socket));
    });
  newest = null;
  const hog = await connect();
  hog.pause();
  hog.on('error', () => {});
  hog.write(Buffer.alloc(16 << 20, 0x41));
  await until(() => newest?.readPaused === true, "the hog's connection stopped reading");
  const hogServerSide = newest;
  const other = await connect();
  let echoedWhileHogged = 0;
  other.on('data', (chunk) => {
    echoedWhileHogged += chunk.length;
  });
  other.write(Buffer.alloc(1000, 0x42));
  await until(() => echoedWhileHogged >= 1000, 'the second echo while the hog holds its share');
  const hogPaused = hogServerSide.readPaused;
  hogServerSide.close();
  other.write(Buffer.alloc(1000, 0x43));
  await until(() => echoedWhileHogged >= 2000, 'the second echo after the hog was closed');
  hog.destroy();
  other.destroy();
  await loop.shutdown({ timeout: 1000 });
  await served;
  parentPort.postMessage({
    serverErrors: serverErrors.sort(),
    appended,
    clientErrors,
    healthyIntact: Buffer.concat(received).equals(sent),
    echoedWhileHogged,
    hogPaused,
  });
}

main().catch((error) => {
  parentPort.postMessage({ error: String(error?.stack ?? error) });
});
