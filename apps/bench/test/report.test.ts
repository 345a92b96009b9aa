import type { RunResult } from '../src/echo-bench';
import { renderReport, summarize } from '../src/report';

function run(implementation: string, cpu: number, rps: number): RunResult {
  return {
    implementation,
    scenario: 'ping-pong, 100 conns',
    requests: rps * 5,
    requestsPerSecond: rps,
    cpuMicrosPerRequest: cpu,
    p50Micros: 100,
    p99Micros: 1000,
    peakRssBytes: 64 * 2 ** 20,
    errors: 0,
    counters: implementation === 'core' ? { nativeToJsCalls: 0.25 } : {},
  };
}

describe('summarize and renderReport', () => {
  it('takes medians per implementation and prints ratios against the baseline', () => {
    const summaries = summarize([
      run('core', 8, 100_000),
      run('net', 16, 50_000),
      run('core', 9, 90_000),
      run('net', 20, 40_000),
      run('core', 30, 10_000),
    ]);
    const core = summaries.find((summary) => summary.implementation === 'core')!;
    expect(core.cpuMicrosPerRequest).toBe(9);
    expect(core.requestsPerSecond).toBe(90_000);
    expect(core.counters).toEqual({ nativeToJsCalls: 0.25 });
    const report = renderReport(summaries, 'net');
    expect(report).toContain('medians of 3 runs');
    // core: 9 µs against net's median of 18 µs → 0.50x; 90k req/s against 45k → 2.00x.
    expect(report).toMatch(/core\s+9\.00\s+0\.50x\s+90000\s+2\.00x/);
    expect(report).toContain('core per request: nativeToJsCalls 0.250');
    expect(report).not.toContain('net per request');
  });
});
