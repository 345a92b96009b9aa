/**
 * The addon is context-aware: each worker thread gets its own addon instance, reactor, epoll fd
 * and slabs, and the env cleanup hook closes every fd when a worker exits.
 */
import { getReactorStats } from '../../src';
import { openFdCount } from '../helpers/fds';
import { describeNative } from '../helpers/native';
import { runWorker } from '../helpers/run-worker';

interface Report {
  id: number;
  echoed?: number;
  accepts?: number;
  error?: string;
}

function runEchoWorker(id: number, leaveOpen: boolean): Promise<Report> {
  return runWorker<Report>('worker-echo.js', { id, rounds: 200, leaveOpen }, leaveOpen);
}

describeNative('worker threads', () => {
  it('runs three reactors at once, one per worker, each with its own state', async () => {
    const mainAccepts = getReactorStats().accepts;
    const reports = await Promise.all([1, 2, 3].map((id) => runEchoWorker(id, false)));
    for (const report of reports) {
      expect(report.error).toBeUndefined();
      expect(report.echoed).toBe(200);
      // Each worker counted only its own accept: state is per thread.
      expect(report.accepts).toBe(1);
    }
    expect(getReactorStats().accepts).toBe(mainAccepts);
  });

  it('closes every fd of a worker that exits with a listener and connections still open', async () => {
    const before = openFdCount();
    const reports = await Promise.all([4, 5, 6].map((id) => runEchoWorker(id, true)));
    for (const report of reports) expect(report.echoed).toBe(200);
    expect(openFdCount()).toBe(before);
  });
});

const kDebug = { NETPOLL_DEBUG: '1' };

describeNative('debug mode (NETPOLL_DEBUG=1)', () => {
  it('poisons slab memory behind a view kept past release', async () => {
    const report = await runWorker<{ length?: number; distinct?: number[]; error?: string }>(
      'worker-poison.js',
      undefined,
      true,
      kDebug,
    );
    expect(report.error).toBeUndefined();
    expect(report.length).toBe('secret-bytes'.length);
    // LinkBuffer poisons a released region with 0xDD; native poisons a slab it rewinds with 0xDB.
    // The runner releases the consumed region right after the handler, so the slab may be rewound
    // too and the kept view shows either or both — never the original bytes.
    expect(report.distinct!.length).toBeGreaterThanOrEqual(1);
    for (const byte of report.distinct!) expect([0xdb, 0xdd]).toContain(byte);
  });

  it('echoes a reader view written with writeBinary unchanged, though its release poisons it', async () => {
    const report = await runWorker<{
      results?: Array<{ length: number; equal: boolean; first: number }>;
      error?: string;
    }>('worker-debug-echo.js', undefined, true, kDebug);
    expect(report.error).toBeUndefined();
    expect(report.results).toEqual([
      { length: 5004, equal: true, first: 28 % 251 },
      { length: 9004, equal: true, first: (28 + 1) % 251 },
      { length: 70004, equal: true, first: (28 + 2) % 251 },
    ]);
  });
});
