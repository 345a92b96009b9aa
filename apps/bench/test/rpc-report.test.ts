import type { RpcRunResult } from '../src/rpc-bench';
import type { RpcStack } from '../src/rpc-commands';
import { renderRpcReport, rpcRatios, rpcTargets, summarizeRpc } from '../src/rpc-report';

function run(
  stack: RpcStack,
  callers: number,
  server: number,
  client: number,
  rate: number,
  p99: number,
  errors = 0,
): RpcRunResult {
  return {
    stack,
    callers,
    calls: rate * 4,
    elapsedMs: 4000,
    callsPerSecond: rate,
    serverCpuMicrosPerCall: server,
    clientCpuMicrosPerCall: client,
    p50Micros: p99 / 2,
    p99Micros: p99,
    serverPeakRssBytes: 60 * 2 ** 20,
    clientPeakRssBytes: 70 * 2 ** 20,
    errors,
  };
}

const kRuns = [
  run('net', 100, 8, 8, 100_000, 2000),
  run('net', 100, 10, 9, 110_000, 2200, 1),
  run('net', 100, 9, 10, 90_000, 1800),
  run('grpc', 100, 80, 160, 5000, 190_000),
  run('net-pool', 100, 9, 12, 60_000, 3000),
  run('netpoll-mux', 100, 2, 2.5, 250_000, 800),
  run('netpoll-mux', 100, 3, 3, 200_000, 1000),
  run('netpoll-mux', 100, 2.5, 2, 300_000, 900),
  run('netpoll-pool', 100, 6, 5, 120_000, 1500),
  run('net', 1000, 12, 12, 80_000, 20_000),
  run('netpoll-mux', 1000, 4, 4, 160_000, 9000),
];

describe('the RPC report', () => {
  it('takes medians per caller count and stack, and sums errors', () => {
    const summaries = summarizeRpc(kRuns);
    const net = summaries.find((row) => row.stack === 'net' && row.callers === 100)!;
    expect(net).toEqual({
      stack: 'net',
      callers: 100,
      runs: 3,
      serverCpuMicrosPerCall: 9,
      clientCpuMicrosPerCall: 9,
      callsPerSecond: 100_000,
      p50Micros: 1000,
      p99Micros: 2000,
      serverPeakRssBytes: 60 * 2 ** 20,
      clientPeakRssBytes: 70 * 2 ** 20,
      errors: 1,
    });
    expect(summaries.map((row) => `${row.callers} ${row.stack}`)).toEqual([
      '100 net',
      '100 grpc',
      '100 net-pool',
      '100 netpoll-mux',
      '100 netpoll-pool',
      '1000 net',
      '1000 netpoll-mux',
    ]);
  });

  it('divides the netpoll stacks by net and grpc at the same caller count', () => {
    const ratios = rpcRatios(summarizeRpc(kRuns));
    expect(ratios.map((ratio) => `${ratio.stack}/${ratio.baseline}@${ratio.callers}`)).toEqual([
      'netpoll-mux/net@100',
      'netpoll-mux/net-pool@100',
      'netpoll-mux/grpc@100',
      'netpoll-pool/net@100',
      'netpoll-pool/net-pool@100',
      'netpoll-pool/grpc@100',
      'netpoll-mux/net@1000',
    ]);
    const muxNet = ratios[0]!;
    expect(muxNet.serverCpu).toBeCloseTo(2.5 / 9);
    expect(muxNet.clientCpu).toBeCloseTo(2.5 / 9);
    expect(muxNet.callsPerSecond).toBeCloseTo(2.5);
    expect(muxNet.p99).toBeCloseTo(0.45);
  });

  it("checks the issue's targets against the medians", () => {
    const targets = rpcTargets(rpcRatios(summarizeRpc(kRuns)));
    expect(targets.map((target) => [target.description, target.met])).toEqual([
      ['mux, 100 callers: server CPU/call vs net', true],
      ['mux, 100 callers: client CPU/call vs net', true],
      ['mux, 100 callers: calls/s vs net', true],
      ['mux, 100 callers: p99 vs net', true],
      ['mux, 100 callers: server CPU/call vs grpc', true], // 2.5 / 80 = 0.031 ≤ 0.04
      ['mux, 100 callers: client CPU/call vs grpc', true], // 2.5 / 160
      ['pool, 100 callers: server CPU/call vs net-pool', false], // 6 / 9 = 0.67 > 0.6
    ]);
  });

  it('renders one table per caller count, the ratios and the targets', () => {
    const report = renderRpcReport(summarizeRpc(kRuns));
    expect(report).toContain('100 callers (medians of 3 runs)');
    expect(report).toContain('1000 callers (medians of 1 runs)');
    expect(report).toMatch(/^net\s+9\.00\s+9\.00\s+100000\s+1000\s+2000\s+60\.0\s+70\.0\s+1$/m);
    expect(report).toMatch(/^netpoll-mux\s+100\s+net\s+0\.278x\s+0\.278x\s+2\.500x\s+0\.450x$/m);
    expect(report).toMatch(
      /^pool, 100 callers: server CPU\/call vs net-pool\s+0\.667x\s+≤ 0\.600x\s+NOT met$/m,
    );
  });

  it('prints no ratios or targets without the netpoll stacks', () => {
    const report = renderRpcReport(
      summarizeRpc(kRuns.filter((item) => !item.stack.startsWith('netpoll'))),
    );
    expect(report).not.toContain('ratios');
    expect(report).not.toContain('targets');
  });
});
