// A server out of descriptors while the client connects: s2 restarted under RLIMIT_NOFILE 128
// with all but one descriptor taken (once its threads are up: server-host.ts, settle), so it
// accepts one connection and the client's other waits unaccepted in the backlog (connected from
// its side, never answered) while accept fails with EMFILE. Calls fail only there, coded, in
// rounds (each unaccepted connection found hung); once descriptors are free again the same
// process accepts again and takes its share.
import { analyse, type FaultWindow } from '../src/analysis';
import { kAcceptBackoffMaxMs, kRecoverBoundMs } from '../src/bounds';
import { clock, sleep } from '../src/load';
import { problemsOf, summarize } from '../src/scenario';
import { kFaultTestTimeoutMs, report, startCluster } from './helpers/fault-test';

describe('a server out of file descriptors', () => {
  it(
    'fails calls only on that server, coded, and serves again once descriptors are back',
    async () => {
      const cluster = await startCluster();
      await cluster.startLoad();
      await sleep(1000);
      const before = await cluster.resources();
      const injectAt = clock();
      await cluster.server('s2').stop(0, 'SIGKILL');
      // One descriptor free: one connection accepted, not the two the client keeps per endpoint.
      const s2 = await cluster.startServer('s2', 1);
      await sleep(3000);
      await cluster.releaseDescriptors('s2');
      const healAt = clock();
      await sleep(kRecoverBoundMs + kAcceptBackoffMaxMs + 1000);
      const after = await cluster.resources();
      const load = await cluster.stopLoad();
      const window: FaultWindow = {
        name: 'out of descriptors',
        endpoint: cluster.endpointOf('s2'),
        host: 's2',
        injectAt,
        healAt,
        // The server answers on the connection it accepted: by every signal the client has it
        // is alive, so calls on the unaccepted ones keep failing in rounds while it is out.
        moves: false,
        mayFail: true,
        recoverBoundMs: kRecoverBoundMs + kAcceptBackoffMaxMs,
      };
      const analysis = analyse(load.records, load.lost, [window]);
      report(summarize(`${window.name} on ${window.host}`, { analysis, load, before, after }));
      expect(problemsOf({ analysis, before, after })).toEqual([]);
      // The fault bit: calls on the unaccepted connections failed.
      expect(Object.values(analysis.failedByCode).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      // The same process served throughout: EMFILE paused its accepts, it did not crash.
      expect(s2.running).toBe(true);
      expect(cluster.server('s2')).toBe(s2);
    },
    kFaultTestTimeoutMs,
  );
});
