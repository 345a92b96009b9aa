import type { AllocFigures } from '../src/alloc-meter';
import type { RpcRunResult } from '../src/rpc-bench';
import type { RpcStack } from '../src/rpc-commands';
import {
  arrayBufferLimit,
  renderRpcReport,
  rpcRatios,
  rpcTargets,
  summarizeRpc,
} from '../src/rpc-report';

/** A side's allocation: `heap` and `arrayBuffers` bytes per call (null: too few calls). */
function alloc(heap: number, arrayBuffers: number | null): AllocFigures {
  return {
    calls: 1000,
    gcs: 3,
    heapBytes: heap * 1000,
    heapBytesPerCall: heap,
    arrayBufferCalls: arrayBuffers === null ? 10 : 900,
    arrayBufferBytes: (arrayBuffers ?? 0) * 900,
    arrayBufferBytesPerCall: arrayBuffers,
  };
}

/** The server's and the client's allocation per call, [heap, ArrayBuffer]. */
type Allocs = [server: [number, number | null], client: [number, number | null] | null];

function run(
  stack: RpcStack,
  callers: number,
  server: number,
  client: number,
  rate: number,
  p99: number,
  errors = 0,
  [server_, client_]: Allocs = [
    [800, 2000],
    [900, 2100],
  ],
): RpcRunResult {
  return {
    stack,
    callers,
    calls: rate * 4,
    elapsedMs: 4000,
    callsPerSecond: rate,
    serverCpuMicrosPerCall: server,
    serverSystemMicrosPerCall: server * 0.75,
    clientCpuMicrosPerCall: client,
    p50Micros: p99 / 2,
    p99Micros: p99,
    serverPeakRssBytes: 60 * 2 ** 20,
    clientPeakRssBytes: 70 * 2 ** 20,
    errors,
    serverAlloc: alloc(...server_),
    clientAlloc: client_ === null ? null : alloc(...client_),
  };
}

const kRuns = [
  run('net', 100, 8, 8, 100_000, 2000),
  run('net', 100, 10, 9, 110_000, 2200, 1),
  run('net', 100, 9, 10, 90_000, 1800),
  run('grpc', 100, 80, 160, 5000, 190_000),
  run('net-pool', 100, 9, 12, 60_000, 3000),
  run('netpoll-mux', 100, 2, 2.5, 250_000, 800, 0, [
    [300, 0.5],
    [600, 12],
  ]),
  // Too few calls clear of GC for an ArrayBuffer figure on the server: the others' median counts.
  run('netpoll-mux', 100, 3, 3, 200_000, 1000, 0, [
    [320, null],
    [640, 20],
  ]),
  run('netpoll-mux', 100, 2.5, 2, 300_000, 900, 0, [
    [310, 1.5],
    [620, 4],
  ]),
  run('netpoll-pool', 100, 6, 5, 120_000, 1500),
  run('netpoll-native-load', 100, 1.5, 0.8, 500_000, 300, 0, [[290, 0.2], null]),
  run('net-native-load', 100, 6, 0.9, 150_000, 700, 0, [[700, 1500], null]),
  run('c-native-load', 100, 4, 0.85, 200_000, 500, 0, [[0, 0], null]),
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
      serverSystemMicrosPerCall: 6.75,
      clientCpuMicrosPerCall: 9,
      callsPerSecond: 100_000,
      p50Micros: 1000,
      p99Micros: 2000,
      serverPeakRssBytes: 60 * 2 ** 20,
      clientPeakRssBytes: 70 * 2 ** 20,
      serverHeapBytesPerCall: 800,
      clientHeapBytesPerCall: 900,
      serverArrayBufferBytesPerCall: 2000,
      clientArrayBufferBytesPerCall: 2100,
      errors: 1,
    });
    const mux = summaries.find((row) => row.stack === 'netpoll-mux' && row.callers === 100)!;
    expect(mux.serverHeapBytesPerCall).toBe(310);
    expect(mux.clientHeapBytesPerCall).toBe(620);
    expect(mux.serverArrayBufferBytesPerCall).toBe(1); // of 0.5 and 1.5
    expect(mux.clientArrayBufferBytesPerCall).toBe(12);
    const native = summaries.find((row) => row.stack === 'netpoll-native-load')!;
    expect(native.serverHeapBytesPerCall).toBe(290);
    expect(native.clientHeapBytesPerCall).toBeNull();
    expect(native.clientArrayBufferBytesPerCall).toBeNull();
    expect(summaries.map((row) => `${row.callers} ${row.stack}`)).toEqual([
      '100 net',
      '100 grpc',
      '100 net-pool',
      '100 netpoll-mux',
      '100 netpoll-pool',
      '100 netpoll-native-load',
      '100 net-native-load',
      '100 c-native-load',
      '1000 net',
      '1000 netpoll-mux',
    ]);
  });

  it('divides the netpoll stacks by net, net-pool and grpc at the same caller count, and the C++-loaded netpoll and C servers by the C++-loaded net one', () => {
    const ratios = rpcRatios(summarizeRpc(kRuns));
    expect(ratios.map((ratio) => `${ratio.stack}/${ratio.baseline}@${ratio.callers}`)).toEqual([
      'netpoll-mux/net@100',
      'netpoll-mux/net-pool@100',
      'netpoll-mux/grpc@100',
      'netpoll-pool/net@100',
      'netpoll-pool/net-pool@100',
      'netpoll-pool/grpc@100',
      'netpoll-native-load/net@100',
      'netpoll-native-load/net-pool@100',
      'netpoll-native-load/grpc@100',
      'netpoll-native-load/net-native-load@100',
      'c-native-load/net-native-load@100',
      'netpoll-mux/net@1000',
    ]);
    const sameLoad = ratios.find((ratio) => ratio.baseline === 'net-native-load')!;
    expect(sameLoad.serverCpu).toBeCloseTo(1.5 / 6);
    expect(sameLoad.clientCpu).toBeCloseTo(0.8 / 0.9);
    // The floor: the C server against the same node:net server, and only against it.
    const floor = ratios.filter((ratio) => ratio.stack === 'c-native-load');
    expect(floor).toHaveLength(1);
    expect(floor[0]!.serverCpu).toBeCloseTo(4 / 6);
    expect(floor[0]!.callsPerSecond).toBeCloseTo(200_000 / 150_000);
    const muxNet = ratios[0]!;
    expect(muxNet.serverCpu).toBeCloseTo(2.5 / 9);
    expect(muxNet.clientCpu).toBeCloseTo(2.5 / 9);
    expect(muxNet.callsPerSecond).toBeCloseTo(2.5);
    expect(muxNet.p99).toBeCloseTo(0.45);
  });

  it("checks the issue's targets against the medians", () => {
    const summaries = summarizeRpc(kRuns);
    const targets = rpcTargets(rpcRatios(summaries), summaries, 1024);
    expect(targets.map((target) => [target.description, target.met])).toEqual([
      ['mux, 100 callers: server CPU/call vs net', true],
      ['mux, 100 callers: client CPU/call vs net', true],
      ['mux, 100 callers: calls/s vs net', true],
      ['mux, 100 callers: p99 vs net', true],
      ['mux, 100 callers: server CPU/call vs grpc', true], // 2.5 / 80 = 0.031 ≤ 0.04
      ['mux, 100 callers: client CPU/call vs grpc', true], // 2.5 / 160
      ['pool, 100 callers: server CPU/call vs net-pool', false], // 6 / 9 = 0.67 > 0.6
      ['mux, 100 callers: server ArrayBuffer B/call', true], // 1 ≤ 10.24
      ['mux, 100 callers: client ArrayBuffer B/call', false], // 12 > 10.24
    ]);
    expect(targets.at(-1)).toEqual({
      description: 'mux, 100 callers: client ArrayBuffer B/call',
      measured: 12,
      unit: 'bytes/call',
      comparison: '<=',
      limit: 10.24,
      met: false,
    });
  });

  it('sets the ArrayBuffer limit at 1 % of the payload, 1 byte at least', () => {
    expect(arrayBufferLimit(1024)).toBe(10.24);
    expect(arrayBufferLimit(65_536)).toBe(655.36);
    expect(arrayBufferLimit(16)).toBe(1);
    expect(arrayBufferLimit(0)).toBe(1);
  });

  it('fails an ArrayBuffer target that has no figure', () => {
    const runs = kRuns
      .filter((item) => item.stack === 'netpoll-mux' && item.callers === 100)
      .map((item) => ({ ...item, serverAlloc: alloc(300, null) }));
    const summaries = summarizeRpc(runs);
    expect(summaries[0]!.serverArrayBufferBytesPerCall).toBeNull();
    const targets = rpcTargets(rpcRatios(summaries), summaries, 1024);
    expect(targets.map((target) => [target.description, target.measured, target.met])).toEqual([
      ['mux, 100 callers: server ArrayBuffer B/call', null, false],
      ['mux, 100 callers: client ArrayBuffer B/call', 12, false],
    ]);
    expect(renderRpcReport(summaries, 1024)).toMatch(
      /^mux, 100 callers: server ArrayBuffer B\/call\s+-\s+≤ 10\.2 B\/call\s+NOT measured$/m,
    );
  });

  it('shows no kernel share for runs saved before it was measured', () => {
    const { serverSystemMicrosPerCall: _, ...saved } = run('net', 100, 8, 8, 100_000, 2000);
    const [summary] = summarizeRpc([saved as RpcRunResult]);
    expect(summary!.serverSystemMicrosPerCall).toBeNull();
    expect(renderRpcReport([summary!], 1024)).toMatch(/^net\s+8\.00\s+-\s+8\.00\s/m);
  });

  it('renders one table per caller count, the ratios and the targets', () => {
    const report = renderRpcReport(summarizeRpc(kRuns), 1024);
    expect(report).toContain('100 callers (medians of 3 runs)');
    expect(report).toContain('1000 callers (medians of 1 runs)');
    expect(report).toMatch(
      /^stack\s+server µs\/call\s+of it kernel\s+client µs\/call\s+calls\/s\s+p50 µs\s+p99 µs\s+server RSS MB\s+client RSS MB\s+srv heap B\/call\s+cli heap B\/call\s+srv AB B\/call\s+cli AB B\/call\s+errors$/m,
    );
    expect(report).toMatch(
      /^net\s+9\.00\s+6\.75\s+9\.00\s+100000\s+1000\s+2000\s+60\.0\s+70\.0\s+800\s+900\s+2000\.0\s+2100\.0\s+1$/m,
    );
    expect(report).toMatch(/^netpoll-mux\s+(\S+\s+){8}310\s+620\s+1\.0\s+12\.0\s+0$/m);
    // No Node client: no client allocation.
    expect(report).toMatch(/^netpoll-native-load\s+(\S+\s+){8}290\s+-\s+0\.2\s+-\s+0$/m);
    expect(report).toMatch(
      /^mux, 100 callers: server ArrayBuffer B\/call\s+1\.0 B\/call\s+≤ 10\.2 B\/call\s+met$/m,
    );
    expect(report).toMatch(
      /^mux, 100 callers: client ArrayBuffer B\/call\s+12\.0 B\/call\s+≤ 10\.2 B\/call\s+NOT met$/m,
    );
    expect(report).toMatch(/^netpoll-mux\s+100\s+net\s+0\.278x\s+0\.278x\s+2\.500x\s+0\.450x$/m);
    expect(report).toMatch(
      /^pool, 100 callers: server CPU\/call vs net-pool\s+0\.667x\s+≤ 0\.600x\s+NOT met$/m,
    );
  });

  it('prints no ratios or targets without the netpoll stacks and the C server', () => {
    const report = renderRpcReport(
      summarizeRpc(
        kRuns.filter((item) => !item.stack.startsWith('netpoll') && item.stack !== 'c-native-load'),
      ),
      1024,
    );
    expect(report).not.toContain('ratios');
    expect(report).not.toContain('targets');
  });
});
