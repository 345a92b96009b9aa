// Worker body for the debug-poison test: NETPOLL_DEBUG=1 is set for this thread's env, so the
// reactor and the LinkBuffers start in debug mode. A view kept past release must show poison
// instead of plausible data once its node is freed.

const { parentPort } = require('node:worker_threads');
const core = require('../../dist/index.js');

async function main() {
  let kept = null;
  let calls = 0;
  let done;
  const handled = new Promise((resolve) => {
    done = resolve;
  });
  const loop = new core.EventLoop((connection) => {
    calls++;
    const view = connection.reader.next(connection.reader.len());
    if (calls === 1) kept = view;
    else done();
  });
  const listener = core.createListener('tcp', '127.0.0.1:0');
  void loop.serve(listener);
  const client = await core.dialConnection('tcp', listener.address);
  client.writer.writeString('secret-bytes');
  client.writer.flush();
  while (kept === null) await new Promise((resolve) => setImmediate(resolve));
  // A second message makes the first node fully consumed; the release after the handler frees it.
  client.writer.writeString('more');
  client.writer.flush();
  await handled;
  await new Promise((resolve) => setImmediate(resolve));
  const bytes = [...kept];
  client.close();
  await loop.shutdown({ timeout: 100 });
  parentPort.postMessage({ length: bytes.length, distinct: [...new Set(bytes)] });
}

main().catch((error) => parentPort.postMessage({ error: String(error?.stack) }));
