// A host 50 ms (± 10) slower per round trip, through the delaying proxy: no call fails, and
// least-pending balancing gives it less of the load while it is slow.
import { kClientOptions } from '../src/bounds';
import { slow } from '../src/faults';
import { faultTest } from './helpers/fault-test';

describe('a slow host', () => {
  faultTest(slow, ({ load, window }) => {
    const share = (from: number, to: number): number => {
      const calls = load.records.filter((r) => r.start >= from && r.start < to);
      return calls.filter((r) => r.servedBy === window.endpoint).length / calls.length;
    };
    // Skip the first second of the fault: calls already spread when it began finish first.
    const during = share(window.injectAt + 1000, window.healAt);
    const after = share(window.healAt + 1000, Number.POSITIVE_INFINITY);
    expect(kClientOptions.balancer).toBe('least-pending');
    // A third of the calls each when equal; far fewer while 50 ms slower (measured ~10 %).
    expect(during).toBeLessThan(0.25);
    expect(after).toBeGreaterThan(0.25);
  });
});
