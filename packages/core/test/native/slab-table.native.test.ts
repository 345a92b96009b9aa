/**
 * Outbound memory is registered with native without a small fixed limit: output queued for many
 * slow peers (one registered buffer per large write) cannot use up what other connections need
 * to write. Runs in a worker thread (see helpers/worker-slab-table.js).
 */
import { describeNative } from '../helpers/native';
import { runWorker } from '../helpers/run-worker';

interface Report {
  error?: string;
  registerError: string | null;
  held: number;
  distinct: number;
  allRegistered: boolean;
  thrown: string[];
  delivered: boolean;
  intact: boolean;
  unregistered: number;
}

describeNative('outbound memory registration', () => {
  it('holds 1500 large queued writes and still sends another connection its reply whole', async () => {
    const report = await runWorker<Report>('worker-slab-table.js', {});
    expect(report.error).toBeUndefined();
    expect(report.registerError).toBeNull();
    expect(report).toMatchObject({ held: 1500, distinct: 1500, allRegistered: true });
    expect(report.thrown).toEqual([]);
    expect(report.delivered).toBe(true);
    expect(report.intact).toBe(true);
    // The stat counts registrations now: freeing the held buffers unregistered each of them.
    expect(report.unregistered).toBe(1500);
  }, 60000);
});
