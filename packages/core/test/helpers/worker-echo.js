// Worker body for worker-threads.native.test.ts: loads the built package in this thread (its own
// addon instance and reactor), runs an echo server and a client, and reports what it saw.

const { parentPort, workerData } = require('node:worker_threads');
const core = require('../../dist/index.js');

async function main() {
  const loop = new core.EventLoop((connection) => {
    const data = connection.reader.next(connection.reader.len());
    connection.writer.writeBinary(data);
    connection.writer.flush();
  });
  const listener = core.createListener('tcp', '127.0.0.1:0');
  const served = loop.serve(listener);
  const client = await core.dialConnection('tcp', listener.address);
  let echoed = 0;
  for (let i = 0; i < workerData.rounds; i++) {
    const message = Buffer.alloc(512, workerData.id);
    client.writer.writeBinary(message);
    client.writer.flush();
    await client.reader.waitFor(512);
    const reply = client.reader.next(512);
    if (reply.every((byte) => byte === workerData.id)) echoed++;
    client.reader.release();
  }
  const stats = core.getReactorStats();
  // Leave the server listening and the client open when asked: the env cleanup hook must close
  // them when the worker exits.
  if (!workerData.leaveOpen) {
    client.close();
    await loop.shutdown({ timeout: 100 });
    await served;
  }
  parentPort.postMessage({
    id: workerData.id,
    echoed,
    accepts: stats.accepts,
    port: listener.port,
  });
}

main().catch((error) => {
  parentPort.postMessage({ id: workerData.id, error: String(error?.stack) });
});
