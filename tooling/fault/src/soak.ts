/**
 * The soak: load on all three hosts for `durationMs`, a random fault on a random host every few
 * seconds (held 2 s, healed, the recovery bound waited out), resources sampled every 5 s; then
 * the analysis of every call against every fault window.
 */
import { analyse, type FaultAnalysis, type FaultWindow } from './analysis';
import { kRecoverBoundMs } from './bounds';
import { type Cluster, kServerNames, type ResourceSnapshot, type ServerName } from './cluster';
import {
  blackhole,
  type Fault,
  gracefulRestart,
  kill,
  lossy,
  partition,
  slow,
  stop,
} from './faults';
import { type CallRecord, clock, sleep } from './load';
import { holdFault, problemsOf } from './scenario';

/** The faults the soak draws from; `slow` needs its host behind the proxy (s2). */
export const kSoakFaults: readonly Fault[] = [
  kill,
  stop,
  partition,
  blackhole,
  lossy(5),
  lossy(30),
  slow,
  gracefulRestart,
];
export const kSoakProxied: ServerName = 's2';

export interface SoakResult {
  readonly startedAt: number;
  readonly windows: FaultWindow[];
  readonly analysis: FaultAnalysis;
  readonly before: ResourceSnapshot;
  readonly after: ResourceSnapshot;
  readonly samples: Array<{ at: number; resources: ResourceSnapshot }>;
  readonly loopDelay: { p99: number; max: number };
  readonly problems: string[];
}

export async function runSoak(cluster: Cluster, durationMs: number): Promise<SoakResult> {
  const startedAt = clock();
  const records: CallRecord[] = [];
  const samples: SoakResult['samples'] = [];
  const windows: FaultWindow[] = [];
  await cluster.startLoad();
  await sleep(1000);
  const before = await cluster.resources();
  samples.push({ at: clock(), resources: before });
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await sleep(5000);
      if (sampling) samples.push({ at: clock(), resources: await cluster.resources() });
    }
  })();
  // Each round: hold 2 s, heal, then the recovery bound and a second of steady load.
  const roundMs = 2000 + kRecoverBoundMs + 1000;
  try {
    while (clock() - startedAt + roundMs + 1000 < durationMs) {
      const fault = kSoakFaults[Math.floor(Math.random() * kSoakFaults.length)]!;
      // The proxied host gets the slow fault only: behind a proxy that accepts while its server
      // is down, a restart or a cut is the proxy's behaviour, not the client's.
      const hosts = kServerNames.filter((name) => name !== kSoakProxied);
      const host = fault.proxied ? kSoakProxied : hosts[Math.floor(Math.random() * hosts.length)]!;
      windows.push(await holdFault(cluster, fault, host, 2000));
      await sleep(kRecoverBoundMs + 1000);
      records.push(...(await cluster.client.request<CallRecord[]>('drain')));
    }
  } finally {
    // Also when a round failed: the sampler (which never rejects) must not sample the removed
    // cluster every 5 s for ever, keeping jest alive after the failed test.
    sampling = false;
  }
  await sampler;
  const after = await cluster.resources();
  samples.push({ at: clock(), resources: after });
  const load = await cluster.stopLoad();
  records.push(...load.records);
  const analysis = analyse(records, load.lost, windows);
  return {
    startedAt,
    windows,
    analysis,
    before,
    after,
    samples,
    loopDelay: load.loopDelay,
    problems: problemsOf({ analysis, before, after }),
  };
}
