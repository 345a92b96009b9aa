import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterTest } from '@netpoll/jest-config/cleanup';

/**
 * Runs `test/helpers/<script>` in a worker thread with `workerData` and resolves with the last
 * message it posted once it exited (rejects when it failed or posted nothing). With
 * `terminateOnReport`, the worker is terminated as soon as it reports (a worker that leaves
 * connections open on purpose would not exit by itself). A worker still running when the test
 * ends (it failed or timed out) is terminated. `env`: variables added to the worker's copy of the
 * environment (`NETPOLL_DEBUG: '1'` starts its reactor and buffers in debug mode).
 */
export function runWorker<Report>(
  script: string,
  workerData: unknown,
  terminateOnReport = false,
  env: Readonly<Record<string, string>> = {},
): Promise<Report> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(join(__dirname, script), {
      workerData,
      env: { ...process.env, ...env },
    });
    afterTest(() => worker.terminate());
    let report: Report | undefined;
    worker.on('message', (message: Report) => {
      report = message;
      if (terminateOnReport) void worker.terminate();
    });
    worker.on('error', reject);
    worker.on('exit', () => (report ? resolve(report) : reject(new Error('no report'))));
  });
}
