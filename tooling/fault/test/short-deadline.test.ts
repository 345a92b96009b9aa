// Calls whose deadline (150 ms) is shorter than the server's work (1 s), beside the echo load:
// each fails by its deadline (ERR_NETPOLL_RPC_TIMEOUT), and each handler that started sees
// its call's signal abort (the server's own deadline, or the client's CANCEL) — counted
// server-side by apps/echo's metrics (calls by method and answered code).
import { analyse, violations } from '../src/analysis';
import { kDeadlineSlackMs } from '../src/bounds';
import { kServerNames } from '../src/cluster';
import { sleep } from '../src/load';
import type { ServiceCounters } from '../src/service-counters';
import { kFaultTestTimeoutMs, report, startCluster } from './helpers/fault-test';

const kSleeps = 60;
// Far below the work, and above what a stalled client may take to write a call.
const kTimeout = 400;
const kWork = 1000;

describe('a deadline shorter than the work', () => {
  it(
    'times out on the client and aborts the handler on the server',
    async () => {
      const cluster = await startCluster();
      await cluster.startLoad();
      await sleep(500);
      await cluster.client.request('sleeps', {
        count: kSleeps,
        ms: kWork,
        timeout: kTimeout,
        spacingMs: 20,
      });
      // Every sleep has passed its server-side deadline by now; aborts are counted at once.
      await sleep(kTimeout + kDeadlineSlackMs + 500);
      const load = await cluster.stopLoad(kTimeout);
      const counters = await Promise.all(
        kServerNames.map(
          async (name) =>
            (await cluster.server(name).request<{ service: ServiceCounters }>('stats')).service,
        ),
      );
      const started = counters.reduce((sum, c) => sum + c.sleepHandled, 0);
      const completed = counters.reduce((sum, c) => sum + c.sleepCompleted, 0);
      const aborted: Record<string, number> = {};
      for (const c of counters) {
        for (const [code, n] of Object.entries(c.sleepAborted))
          aborted[code] = (aborted[code] ?? 0) + n;
      }
      const sleeps = load.records.filter((r) => r.method === 'sleep');
      report(
        `fault short deadline: ${sleeps.length} sleeps (${kWork} ms of work, ${kTimeout} ms deadline): ` +
          `client ${JSON.stringify(tally(sleeps.map((r) => r.code)))}; server started ${started}, ` +
          `aborted ${JSON.stringify(aborted)}, completed ${completed}`,
      );
      expect(violations(analyse(load.records, load.lost, []))).toEqual([]);
      expect(sleeps).toHaveLength(kSleeps);
      for (const call of sleeps) {
        // The client's deadline timer, or — when the server's abort fired first and its answer
        // was read before that timer — apps/echo's sleep answering its abort with the reason's
        // code (DEADLINE_EXCEEDED), which the client reports as its timeout too, as it comes
        // after the call's deadline. The lateness check above bounds it from above. The handler
        // ran: `processed`.
        expect(call).toMatchObject({ code: 'ERR_NETPOLL_RPC_TIMEOUT', processed: true });
        expect(call.end - call.start).toBeGreaterThanOrEqual(kTimeout - 1);
      }
      // Each reached a handler, and each handler saw its signal abort: none ran to the end.
      expect(started).toBe(kSleeps);
      expect(completed).toBe(0);
      expect(Object.values(aborted).reduce((a, b) => a + b, 0)).toBe(kSleeps);
      expect(
        Object.keys(aborted).every((code) => ['DEADLINE_EXCEEDED', 'CANCELLED'].includes(code)),
      ).toBe(true);
      // Only the sleeps failed; the echo load beside them did not.
      expect(load.records.filter((r) => r.method === 'echo' && r.code !== null)).toEqual([]);
    },
    kFaultTestTimeoutMs,
  );
});

function tally(values: ReadonlyArray<string | null>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const value of values) out[value ?? 'ok'] = (out[value ?? 'ok'] ?? 0) + 1;
  return out;
}
