/**
 * A full slab table: output that needs registered memory waits in the writer (`flush()` does not
 * throw, `writable` is false) and is sent whole once an entry frees — also for a connection closed
 * meanwhile, whose close waits for it. Runs in a worker thread (see helpers/worker-slab-table.js).
 */
import { describeNative } from '../helpers/native';
import { runWorker } from '../helpers/run-worker';

interface Report {
  error?: string;
  held: number;
  thrown: string[];
  writableAfterFlush: boolean[];
  receivedWhileFull: number[];
  stalls: number;
  deliveredAll: boolean;
  closedEnded: boolean;
  intact: boolean[];
}

describeNative('a full slab table', () => {
  it('holds output back without an error and sends every byte once an entry frees', async () => {
    const report = await runWorker<Report>('worker-slab-table.js', {});
    expect(report.error).toBeUndefined();
    // Two inbound slabs are registered at start; the rest of the 1024 entries were filled here.
    expect(report.held).toBeGreaterThan(1000);
    expect(report.thrown).toEqual([]);
    expect(report.writableAfterFlush).toEqual([false, false, false]);
    expect(report.receivedWhileFull).toEqual([0, 0, 0]);
    expect(report.stalls).toBeGreaterThanOrEqual(3);
    expect(report.deliveredAll).toBe(true);
    expect(report.closedEnded).toBe(true);
    expect(report.intact).toEqual([true, true, true]);
  }, 60000);
});
