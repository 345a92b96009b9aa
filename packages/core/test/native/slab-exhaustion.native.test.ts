/**
 * Slab exhaustion: when every inbound slab stays referenced and the pool is at its memory cap,
 * reading stalls without a busy loop (the data waits in the kernel), and resumes with every byte
 * in order once the memory is released. Each case runs in a worker thread, whose fresh reactor
 * is configured with 4 slabs of 16 KiB (see helpers/worker-slab-stall.js).
 */
import { describeNative } from '../helpers/native';
import { runWorker } from '../helpers/run-worker';

interface Report {
  error?: string;
  intact: boolean[];
  heldBytes: number;
  idle: { batches: number; events: number; reads: number; nativeToJsCalls: number };
  readStalls: number;
  readResumes: number;
  inboundSlabs: number;
}

function runStallWorker(workerData: {
  connections: number;
  bytes: number;
  framing: boolean;
}): Promise<Report> {
  return runWorker<Report>('worker-slab-stall.js', workerData);
}

const kSlab = 16 * 1024;
// Generous for a loaded 2-core machine: each case normally takes well under a second, and nothing
// in it waits for time (only for loop turns and events).
const kTestTimeout = 60000;

describeNative('inbound slab exhaustion', () => {
  it(
    'parks reads at the memory cap without spinning, then delivers every byte in order',
    async () => {
      const report = await runStallWorker({ connections: 8, bytes: 256 * 1024, framing: false });
      expect(report.error).toBeUndefined();
      // The pool grew from 2 slabs to the cap (64 KiB = 4 slabs) and no further.
      expect(report.inboundSlabs).toBe(4);
      expect(report.heldBytes).toBeGreaterThan(0);
      expect(report.heldBytes).toBeLessThanOrEqual(4 * kSlab);
      // 200 loop turns while every connection was parked: not one batch, event or read.
      expect(report.idle).toEqual({ batches: 0, events: 0, reads: 0, nativeToJsCalls: 0 });
      // Every connection stalled at least once and was resumed as often as it stalled.
      expect(report.readStalls).toBeGreaterThanOrEqual(8);
      expect(report.readResumes).toBe(report.readStalls);
      expect(report.intact).toEqual(new Array(8).fill(true));
    },
    kTestTimeout,
  );

  it(
    'does the same with native framing, including frames larger than one read',
    async () => {
      const report = await runStallWorker({ connections: 6, bytes: 400 * 1024, framing: true });
      expect(report.error).toBeUndefined();
      // Two start-up slabs plus one sized for a whole 100 KiB frame; the cap allows no more.
      expect(report.inboundSlabs).toBe(3);
      expect(report.idle).toEqual({ batches: 0, events: 0, reads: 0, nativeToJsCalls: 0 });
      expect(report.readStalls).toBeGreaterThanOrEqual(6);
      expect(report.readResumes).toBe(report.readStalls);
      expect(report.intact).toEqual(new Array(6).fill(true));
    },
    kTestTimeout,
  );
});
