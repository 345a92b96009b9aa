/**
 * The RPC benchmark's report: medians over the repeats per (callers, stack), the ratios of the
 * @netpoll/rpc stacks against `net` and `grpc`, and the targets with what was measured.
 */
import type { AllocFigures } from './alloc-meter';
import { median } from './histogram';
import type { RpcRunResult } from './rpc-bench';
import type { RpcStack } from './rpc-commands';
import { alignColumns } from './text-table';

/** Medians over the repeats of one stack at one caller count. */
export interface RpcSummary {
  readonly stack: RpcStack;
  readonly callers: number;
  readonly runs: number;
  readonly serverCpuMicrosPerCall: number;
  /** The part of it spent in the kernel (median of the runs that measured it). */
  readonly serverSystemMicrosPerCall: number | null;
  readonly clientCpuMicrosPerCall: number;
  readonly callsPerSecond: number;
  readonly p50Micros: number;
  readonly p99Micros: number;
  readonly serverPeakRssBytes: number;
  readonly clientPeakRssBytes: number;
  /** JS heap bytes the server allocated per call. */
  readonly serverHeapBytesPerCall: number | null;
  /** The Node client's; null for the native load generator. */
  readonly clientHeapBytesPerCall: number | null;
  /**
   * ArrayBuffer bytes allocated per call, the medians of the runs that have a figure; null when
   * none has (no Node client, or too few calls in the sampling intervals clear of GC).
   */
  readonly serverArrayBufferBytesPerCall: number | null;
  readonly clientArrayBufferBytesPerCall: number | null;
  /** Failed calls, summed over the runs. */
  readonly errors: number;
}

/** One stack's figures divided by a baseline's, at one caller count. */
export interface RpcRatio {
  readonly stack: RpcStack;
  readonly baseline: RpcStack;
  readonly callers: number;
  readonly serverCpu: number;
  readonly clientCpu: number;
  readonly callsPerSecond: number;
  readonly p99: number;
}

/** One of the targets and what was measured against it. */
export interface RpcTarget {
  readonly description: string;
  /** The measured ratio or bytes per call; null when there was no figure (not met then). */
  readonly measured: number | null;
  readonly unit: 'ratio' | 'bytes/call';
  /** `≤ limit` or `≥ limit`. */
  readonly comparison: '<=' | '>=';
  readonly limit: number;
  readonly met: boolean;
}

/** The stacks whose ratios are reported, and the baselines they are divided by. */
const kCompared: readonly RpcStack[] = [
  'netpoll-mux',
  'netpoll-pool',
  'netpoll-native-load',
  'starter',
];
const kBaselines: readonly RpcStack[] = ['net', 'net-pool', 'grpc'];
/**
 * Baselines of one stack only: the node:net server under the same C++ load. The C echo server
 * (c-native-load) is set against it alone: the floor any server on this kernel pays.
 */
const kOwnBaselines: Partial<Record<RpcStack, readonly RpcStack[]>> = {
  'netpoll-native-load': ['net-native-load'],
  'c-native-load': ['net-native-load'],
};

/** Groups runs by caller count and stack (in the order first seen) and takes medians. */
export function summarizeRpc(results: readonly RpcRunResult[]): RpcSummary[] {
  const groups = new Map<string, RpcRunResult[]>();
  for (const result of results) {
    const key = `${result.callers}\u0000${result.stack}`;
    groups.set(key, [...(groups.get(key) ?? []), result]);
  }
  const of = (runs: readonly RpcRunResult[], figure: (run: RpcRunResult) => number) =>
    median(runs.map(figure));
  // The median of the runs that have the figure.
  const ofSome = (
    runs: readonly RpcRunResult[],
    figure: (run: RpcRunResult) => number | null | undefined,
  ) => {
    const values = runs.map(figure).filter((value): value is number => typeof value === 'number');
    return values.length === 0 ? null : median(values);
  };
  const alloc =
    (side: 'serverAlloc' | 'clientAlloc', key: keyof AllocFigures) => (run: RpcRunResult) =>
      run[side]?.[key];
  return [...groups.values()].map((runs) => ({
    stack: runs[0]!.stack,
    callers: runs[0]!.callers,
    runs: runs.length,
    serverCpuMicrosPerCall: of(runs, (run) => run.serverCpuMicrosPerCall),
    serverSystemMicrosPerCall: ofSome(runs, (run) => run.serverSystemMicrosPerCall),
    clientCpuMicrosPerCall: of(runs, (run) => run.clientCpuMicrosPerCall),
    callsPerSecond: of(runs, (run) => run.callsPerSecond),
    p50Micros: of(runs, (run) => run.p50Micros),
    p99Micros: of(runs, (run) => run.p99Micros),
    serverPeakRssBytes: of(runs, (run) => run.serverPeakRssBytes),
    clientPeakRssBytes: of(runs, (run) => run.clientPeakRssBytes),
    serverHeapBytesPerCall: ofSome(runs, alloc('serverAlloc', 'heapBytesPerCall')),
    clientHeapBytesPerCall: ofSome(runs, alloc('clientAlloc', 'heapBytesPerCall')),
    serverArrayBufferBytesPerCall: ofSome(runs, alloc('serverAlloc', 'arrayBufferBytesPerCall')),
    clientArrayBufferBytesPerCall: ofSome(runs, alloc('clientAlloc', 'arrayBufferBytesPerCall')),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
  }));
}

/**
 * Ratios of every netpoll stack against net, net-pool and grpc at the same caller count, and of
 * netpoll-native-load and c-native-load against net-native-load (all under the C++ load).
 */
export function rpcRatios(summaries: readonly RpcSummary[]): RpcRatio[] {
  const ratios: RpcRatio[] = [];
  for (const row of summaries) {
    const baselines = [
      ...(kCompared.includes(row.stack) ? kBaselines : []),
      ...(kOwnBaselines[row.stack] ?? []),
    ];
    for (const baselineStack of baselines) {
      const base = summaries.find(
        (other) => other.stack === baselineStack && other.callers === row.callers,
      );
      if (base === undefined) continue;
      ratios.push({
        stack: row.stack,
        baseline: baselineStack,
        callers: row.callers,
        serverCpu: row.serverCpuMicrosPerCall / base.serverCpuMicrosPerCall,
        clientCpu: row.clientCpuMicrosPerCall / base.clientCpuMicrosPerCall,
        callsPerSecond: row.callsPerSecond / base.callsPerSecond,
        p99: row.p99Micros / base.p99Micros,
      });
    }
  }
  return ratios;
}

/**
 * The most ArrayBuffer bytes per call that still means "no ArrayBuffer per call": 1 % of the
 * payload. A stack that allocated one per call would show at least the payload's size (the
 * request or the reply is in it), so 1 % is fewer than one such buffer per 100 calls; what stays
 * below it is the occasional slab or pool chunk, spread over many calls. 1 byte at least, so a
 * payload under 100 bytes still leaves room for that.
 */
export function arrayBufferLimit(payloadSize: number): number {
  return Math.max(payloadSize / 100, 1);
}

/**
 * The targets (mux at 100 callers against net and grpc, pool at 100 callers against its
 * node:net equivalent, net-pool; mux at 100 callers allocating no ArrayBuffer per call on either
 * side), for what was measured.
 */
export function rpcTargets(
  ratios: readonly RpcRatio[],
  summaries: readonly RpcSummary[],
  payloadSize: number,
): RpcTarget[] {
  const find = (stack: RpcStack, baseline: RpcStack) =>
    ratios.find(
      (ratio) => ratio.stack === stack && ratio.baseline === baseline && ratio.callers === 100,
    );
  const targets: RpcTarget[] = [];
  const add = (
    description: string,
    measured: number | null,
    comparison: '<=' | '>=',
    limit: number,
    unit: RpcTarget['unit'] = 'ratio',
  ) =>
    targets.push({
      description,
      measured,
      unit,
      comparison,
      limit,
      met: measured !== null && (comparison === '<=' ? measured <= limit : measured >= limit),
    });
  const muxNet = find('netpoll-mux', 'net');
  if (muxNet !== undefined) {
    add('mux, 100 callers: server CPU/call vs net', muxNet.serverCpu, '<=', 0.33);
    add('mux, 100 callers: client CPU/call vs net', muxNet.clientCpu, '<=', 0.33);
    add('mux, 100 callers: calls/s vs net', muxNet.callsPerSecond, '>=', 2);
    add('mux, 100 callers: p99 vs net', muxNet.p99, '<=', 0.5);
  }
  const muxGrpc = find('netpoll-mux', 'grpc');
  if (muxGrpc !== undefined) {
    add('mux, 100 callers: server CPU/call vs grpc', muxGrpc.serverCpu, '<=', 1 / 25);
    add('mux, 100 callers: client CPU/call vs grpc', muxGrpc.clientCpu, '<=', 1 / 25);
  }
  const poolNet = find('netpoll-pool', 'net-pool');
  if (poolNet !== undefined) {
    add('pool, 100 callers: server CPU/call vs net-pool', poolNet.serverCpu, '<=', 0.6);
  }
  const mux = summaries.find((row) => row.stack === 'netpoll-mux' && row.callers === 100);
  if (mux !== undefined) {
    const limit = arrayBufferLimit(payloadSize);
    const server = mux.serverArrayBufferBytesPerCall;
    const client = mux.clientArrayBufferBytesPerCall;
    add('mux, 100 callers: server ArrayBuffer B/call', server, '<=', limit, 'bytes/call');
    add('mux, 100 callers: client ArrayBuffer B/call', client, '<=', limit, 'bytes/call');
  }
  return targets;
}

const table = (header: readonly string[], rows: readonly (readonly string[])[]): string[] =>
  alignColumns(header, rows, '  ');

const ratioText = (value: number): string =>
  Number.isFinite(value) ? `${value.toFixed(3)}x` : '-';
const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const bytesText = (value: number | null, digits: number): string =>
  value === null ? '-' : value.toFixed(digits);
const targetText = (target: RpcTarget, value: number): string =>
  target.unit === 'ratio' ? ratioText(value) : `${value.toFixed(1)} B/call`;

/**
 * Renders one table per caller count, then the ratios and the targets (`payloadSize`: the calls'
 * payload, which sets the ArrayBuffer targets).
 */
export function renderRpcReport(summaries: readonly RpcSummary[], payloadSize: number): string {
  const lines: string[] = [];
  const callerCounts = [...new Set(summaries.map((summary) => summary.callers))];
  for (const callers of callerCounts) {
    const rows = summaries.filter((summary) => summary.callers === callers);
    lines.push('', `${callers} callers (medians of ${rows[0]!.runs} runs)`);
    lines.push(
      ...table(
        [
          'stack',
          'server µs/call',
          'of it kernel',
          'client µs/call',
          'calls/s',
          'p50 µs',
          'p99 µs',
          'server RSS MB',
          'client RSS MB',
          'srv heap B/call',
          'cli heap B/call',
          'srv AB B/call',
          'cli AB B/call',
          'errors',
        ],
        rows.map((row) => [
          row.stack,
          row.serverCpuMicrosPerCall.toFixed(2),
          row.serverSystemMicrosPerCall === null ? '-' : row.serverSystemMicrosPerCall.toFixed(2),
          row.clientCpuMicrosPerCall.toFixed(2),
          Math.round(row.callsPerSecond).toString(),
          row.p50Micros.toFixed(0),
          row.p99Micros.toFixed(0),
          mb(row.serverPeakRssBytes),
          mb(row.clientPeakRssBytes),
          bytesText(row.serverHeapBytesPerCall, 0),
          bytesText(row.clientHeapBytesPerCall, 0),
          bytesText(row.serverArrayBufferBytesPerCall, 1),
          bytesText(row.clientArrayBufferBytesPerCall, 1),
          String(row.errors),
        ]),
      ),
    );
  }
  if (summaries.length > 0) {
    lines.push(
      '',
      'heap B/call: JS heap bytes allocated per call; AB B/call: ArrayBuffer bytes allocated per',
      'call, over the 5 ms samples clear of GC (-: no Node client, or too few calls in those samples)',
    );
  }
  const ratios = rpcRatios(summaries);
  if (ratios.length > 0) {
    lines.push('', 'ratios (stack / baseline, same caller count; CPU and p99: lower is better)');
    lines.push(
      ...table(
        ['stack', 'callers', 'baseline', 'server CPU', 'client CPU', 'calls/s', 'p99'],
        ratios.map((ratio) => [
          ratio.stack,
          String(ratio.callers),
          ratio.baseline,
          ratioText(ratio.serverCpu),
          ratioText(ratio.clientCpu),
          ratioText(ratio.callsPerSecond),
          ratioText(ratio.p99),
        ]),
      ),
    );
  }
  const targets = rpcTargets(ratios, summaries, payloadSize);
  if (targets.length > 0) {
    lines.push('', 'targets (medians)');
    lines.push(
      ...table(
        ['target', 'measured', 'wanted', ''],
        targets.map((target) => [
          target.description,
          target.measured === null ? '-' : targetText(target, target.measured),
          `${target.comparison === '<=' ? '≤' : '≥'} ${targetText(target, target.limit)}`,
          target.measured === null ? 'NOT measured' : target.met ? 'met' : 'NOT met',
        ]),
      ),
    );
  }
  return lines.join('\n');
}
