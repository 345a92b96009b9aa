// Worker-thread smoke test of the packed @netpoll/core (see smoke.cjs): the addon is loaded on the
// main thread and in two worker threads at once, and each thread runs its own reactor, echo
// server and client. Ends with `smoke-worker.cjs: N passed, N failed`.
const assert = require('node:assert/strict');
const { isMainThread, parentPort, Worker } = require('node:worker_threads');
const core = require('@netpoll/core');
const { echo, runTests } = require('./run-tests.cjs');

async function echoAndBatches(text) {
  return { echoed: await echo(core, text), batches: core.getReactorStats().batches };
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
  echoAndBatches(`worker ${require('node:worker_threads').workerData}`).then(
    (result) => parentPort.postMessage(result),
    (error) => {
      throw error;
    },
  );
} else {
  const tests = {
    '@netpoll/core: echo on the main thread': async () => {
      assert.equal((await echoAndBatches('main')).echoed, 'main');
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
  runTests('smoke-worker.cjs', tests, 90_000);
}
