/**
 * Output that shares inbound slab memory (`writer.writeFrom(reader)`) is let go once native has
 * written it: a connection that goes quiet after its reply must not keep a slab pinned. Runs in
 * a worker thread whose reactor has 4 slabs of 16 KiB (see helpers/worker-idle-echo.js).
 */
import { describeNative } from '../helpers/native';
import { runWorker } from '../helpers/run-worker';

interface Report {
  error?: string;
  intact: boolean[];
  streamIntact: boolean;
  inboundSlabs: number;
  stallsWhileStreaming: number;
  resumesWhileStreaming: number;
}

describeNative('output sharing inbound slabs', () => {
  it('quiet connections release the slab regions their writeFrom replies shared', async () => {
    const report = await runWorker<Report>('worker-idle-echo.js', {
      quiet: 24,
      streamBytes: 1024 * 1024,
    });
    expect(report.error).toBeUndefined();
    expect(report.intact).toEqual(new Array(24).fill(true));
    expect(report.streamIntact).toBe(true);
    // The 1 MiB stream went through the same 64 KiB of slabs that 24 quiet replies had used.
    expect(report.inboundSlabs).toBeLessThanOrEqual(4);
    // Reads may pause while the stream's own output is in flight, but each pause ended.
    expect(report.resumesWhileStreaming).toBe(report.stallsWhileStreaming);
  }, 60000);
});
