/**
 * `faultTest(fault)`: one jest test that builds a cluster, runs the fault under load on s2
 * (scenario.ts), prints its summary line, and expects nothing broken. The cluster is removed
 * after the test whatever happened (afterTest), and the network by the reaper if jest dies.
 */
import { afterTest } from '@netpoll/jest-config/cleanup';
import { Cluster } from '../../src/cluster';
import type { Fault } from '../../src/faults';
import { runScenario, type ScenarioResult, summarize } from '../../src/scenario';

/** Per fault test: cluster start, warm-up, hold, heal, recovery wait and stop fit well in it. */
export const kFaultTestTimeoutMs = 60_000;

export async function startCluster(
  options?: Parameters<typeof Cluster.start>[0],
): Promise<Cluster> {
  const cluster = await Cluster.start(options);
  afterTest(() => cluster.destroy());
  return cluster;
}

export function faultTest(
  fault: Fault,
  extra?: (result: ScenarioResult) => void,
  holdMs?: number,
): void {
  it(
    fault.name,
    async () => {
      const cluster = await startCluster({ proxied: fault.proxied ? ['s2'] : [] });
      const result = await runScenario(cluster, fault, 's2', holdMs);
      report(summarize(`${fault.name} on ${result.window.host}`, result));
      expect(result.problems).toEqual([]);
      extra?.(result);
    },
    kFaultTestTimeoutMs,
  );
}

/** A line in the log, outside jest's console decoration (the CI job greps these). */
export function report(line: string): void {
  process.stdout.write(`${line}\n`);
}
