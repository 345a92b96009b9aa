/**
 * One connection cannot take the reactor from the others: a peer that sends without reading is
 * held to its share (its connection stops reading; its echo is copied, not pinned in the shared
 * slabs), and an echo larger than the inbound memory completes instead of stalling.
 */
import { describeNative } from '../helpers/native';
import { runWorker } from '../helpers/run-worker';

describeNative('fairness between connections', () => {
  it('a peer that sends 64 MiB and never reads does not stop 20 other peers getting replies', async () => {
    const report = await runWorker<{
      error?: string;
      roundTrips: number;
      slowPaused: boolean;
      slowPending: number;
    }>('worker-fairness.js', { scenario: 'slow-reader' });
    expect(report.error).toBeUndefined();
    expect(report.roundTrips).toBe(20 * 20);
    expect(report.slowPaused).toBe(true);
  }, 60_000);

  it('an in-process echo larger than the inbound memory completes instead of stalling', async () => {
    const report = await runWorker<{ error?: string; outcome: string; evacuatedBytes: number }>(
      'worker-fairness.js',
      { scenario: 'big-echo' },
    );
    expect(report.error).toBeUndefined();
    expect(report.outcome).toBe('echoed');
    // It got there by moving the client's buffered input out of the slabs at the memory cap
    // (reported on the netpoll:reactor:stall channel).
    expect(report.evacuatedBytes).toBeGreaterThan(0);
  }, 60_000);
});
