// Worker body for the debug-mode echo test: NETPOLL_DEBUG=1 is set for this thread's env. The
// server echoes each frame above 4 KiB with `writer.writeBinary(reader.next(n))` (a reader view,
// which is written without a copy outside debug mode) and returns; the runner then releases the
// view's slab region, which debug mode poisons. The client must still get its bytes back.

const { parentPort } = require('node:worker_threads');
const core = require('../../dist/index.js');

async function main() {
  const loop = new core.EventLoop(
    (connection) => {
      const reader = connection.reader;
      connection.writer.writeBinary(reader.next(reader.len()));
      connection.writer.flush();
    },
    { framing: { lengthHeader: 4 } },
  );
  const listener = core.createListener('tcp', '127.0.0.1:0');
  void loop.serve(listener);
  const client = await core.dialConnection('tcp', listener.address);
  const frames = [5000, 9000, 70000].map((size, index) => {
    const frame = Buffer.alloc(4 + size);
    frame.writeUInt32BE(size, 0);
    for (let i = 4; i < frame.length; i++) frame[i] = (i * 7 + index) % 251;
    return frame;
  });
  const results = [];
  for (const frame of frames) {
    client.writer.writeBinary(frame);
    client.writer.flush();
    await client.reader.waitFor(frame.length);
    const echoed = client.reader.readBinary(frame.length);
    results.push({ length: echoed.length, equal: echoed.equals(frame), first: echoed[4] });
  }
  client.close();
  await loop.shutdown({ timeout: 100 });
  parentPort.postMessage({ results });
}

main().catch((error) => parentPort.postMessage({ error: String(error?.stack) }));
