// Worker-thread smoke test of the packed @netpoll/core (see smoke.cjs): the addon is loaded on the
// main thread and in two worker threads at once, and each thread runs its own reactor, echo
// server and client. Ends with `smoke-worker.cjs: N passed, N failed`.
const assert = require('node:assert/strict');
const { isMainThread, parentPort, Worker } = require('node:worker_threads');
const { createListener, dialConnection, EventLoop, getReactorStats } = require('@netpoll/core');

async function echo(text) {
  const loop = new EventLoop(
    (connection) => {
      connection.writer.writeFrom(connection.reader, connection.reader.len());
      connection.writer.flush();
    },
    { framing: { lengthHeader: 4, maxFrameSize: 1 << 20 } },
  );
  const listener = createListener('tcp', '127.0.0.1:0');
  const served = loop.serve(listener);
  const client = await dialConnection('tcp', listener.address, { timeout: 5000 });
  const payload = Buffer.from(text);
  client.writer.writeUint32BE(payload.length);
  client.writer.writeBinary(payload);
  client.writer.flush();
  await client.reader.waitFor(4 + payload.length);
  const echoed = client.reader.readString(client.reader.readUint32BE());
  client.close();
  await loop.shutdown({ timeout: 5000 });
  await served;
  return { echoed, batches: getReactorStats().batches };
}

function inWorker(index) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(__filename, { workerData: index });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker ${index} exited with ${code}`)));
  });
}

if (!isMainThread) {
  echo(`worker ${require('node:worker_threads').workerData}`).then(
    (result) => parentPort.postMessage(result),
    (error) => {
      throw error;
    },
  );
} else {
  const tests = {
    '@netpoll/core: echo on the main thread': async () => {
      assert.equal((await echo('main')).echoed, 'main');
    },
    '@netpoll/core: the addon in two worker threads at once, a reactor in each': async () => {
      const results = await Promise.all([inWorker(1), inWorker(2)]);
      assert.deepEqual(
        results.map((result) => result.echoed),
        ['worker 1', 'worker 2'],
      );
      for (const result of results) assert.ok(result.batches > 0);
    },
  };
  (async () => {
    const watchdog = setTimeout(() => {
      console.log('not ok smoke-worker.cjs: still running after 90 s');
      process.exit(1);
    }, 90_000);
    watchdog.unref();
    let passed = 0;
    let failed = 0;
    for (const [name, fn] of Object.entries(tests)) {
      try {
        await fn();
        passed++;
        console.log(`ok ${name}`);
      } catch (error) {
        failed++;
        console.log(`not ok ${name}: ${error?.stack ?? error}`);
      }
    }
    console.log(`smoke-worker.cjs: ${passed} passed, ${failed} failed`);
    process.exitCode = failed === 0 ? 0 : 1;
  })();
}
