// The soak: a random fault every ~6 s for FAULT_SOAK_SECONDS (default 120) under load; prints
// the faults table and expects nothing lost or broken across all of them.
import { kSoakProxied, runSoak } from '../src/soak';
import { soakReport } from '../src/soak-report';
import { report, startCluster } from './helpers/fault-test';

const kSeconds = Number(process.env.FAULT_SOAK_SECONDS ?? 120);

describe('the soak', () => {
  it(
    `survives a random fault every few seconds for ${kSeconds} s`,
    async () => {
      const cluster = await startCluster({ proxied: [kSoakProxied] });
      const result = await runSoak(cluster, kSeconds * 1000);
      report(soakReport(result));
      expect(result.windows.length).toBeGreaterThan(0);
      expect(result.analysis.lost).toBe(0);
      expect(result.problems).toEqual([]);
    },
    kSeconds * 1000 + 60_000,
  );
});
