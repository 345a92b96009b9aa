/**
 * Output that shares inbound slab memory (`writer.writeFrom(reader)`) is let go once native has
 * written it: a connection that goes quiet after its reply must not keep a slab pinned. Runs in
 * a worker thread whose reactor has 4 slabs of 16 KiB (see helpers/worker-idle-echo.js).
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describeNative } from '../helpers/native';

interface Report {
  error?: string;
  intact: boolean[];
  streamIntact: boolean;
  inboundSlabs: number;
  stallsWhileStreaming: number;
  resumesWhileStreaming: number;
}

function runWorker(workerData: { quiet: number; streamBytes: number }): Promise<Report> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(join(__dirname, '..', 'helpers', 'worker-idle-echo.js'), {
      workerData,
    });
    let report: Report | undefined;
    worker.on('message', (message: Report) => {
      report = message;
    });
    worker.on('error', reject);
    worker.on('exit', () => (report ? resolve(report) : reject(new Error('no report'))));
  });
}

describeNative('output sharing inbound slabs', () => {
  it('quiet connections release the slab regions their writeFrom replies shared', async () => {
    const report = await runWorker({ quiet: 24, streamBytes: 1024 * 1024 });
    expect(report.error).toBeUndefined();
    expect(report.intact).toEqual(new Array(24).fill(true));
    expect(report.streamIntact).toBe(true);
    // The 1 MiB stream went through the same 64 KiB of slabs that 24 quiet replies had used.
    expect(report.inboundSlabs).toBeLessThanOrEqual(4);
    // Reads may pause while the stream's own output is in flight, but each pause ended.
    expect(report.resumesWhileStreaming).toBe(report.stallsWhileStreaming);
  }, 60000);
});
