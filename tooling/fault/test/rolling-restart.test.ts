// Each server in turn: SIGTERM → graceful close (GOAWAY, every read request answered) → restart,
// the next one only once traffic reached the restarted one. No call may fail: a request the
// server did not read is sent elsewhere, whether the caller marked it idempotent or not.
import { analyse, type FaultWindow } from '../src/analysis';
import { kRecoverBoundMs } from '../src/bounds';
import { kServerNames } from '../src/cluster';
import { gracefulRestart } from '../src/faults';
import { clock, sleep } from '../src/load';
import { problemsOf, summarize } from '../src/scenario';
import { kFaultTestTimeoutMs, report, startCluster } from './helpers/fault-test';

describe('a rolling restart', () => {
  it(
    'restarts every server gracefully under load without failing a call',
    async () => {
      const cluster = await startCluster();
      await cluster.startLoad();
      await sleep(1000);
      const before = await cluster.resources();
      const windows: FaultWindow[] = [];
      for (const host of kServerNames) {
        const injectAt = clock();
        await gracefulRestart.inject(cluster, host);
        await gracefulRestart.heal(cluster, host);
        const healAt = clock();
        windows.push({
          name: `${gracefulRestart.name} ${host}`,
          endpoint: cluster.endpointOf(host),
          host,
          injectAt,
          healAt,
          moves: true,
          mayFail: false,
        });
        await cluster.waitForTraffic(host, kRecoverBoundMs);
      }
      await sleep(1000);
      const after = await cluster.resources();
      const load = await cluster.stopLoad();
      const analysis = analyse(load.records, load.lost, windows);
      report(
        summarize(`rolling restart (SIGTERM, GOAWAY) on ${kServerNames.join()}`, {
          analysis,
          load,
          before,
          after,
        }),
      );
      expect(problemsOf({ analysis, before, after })).toEqual([]);
      expect(analysis.failedNonIdempotent).toBe(0);
      expect(analysis.failedByCode).toEqual({});
    },
    kFaultTestTimeoutMs,
  );
});
