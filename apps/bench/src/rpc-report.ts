/**
 * The RPC benchmark's report: medians over the repeats per (callers, stack), the ratios of the
 * @netpoll/rpc stacks against `net` and `grpc`, and the targets with what was measured.
 */
import { median } from './histogram';
import type { RpcRunResult } from './rpc-bench';
import type { RpcStack } from './rpc-commands';

/** Medians over the repeats of one stack at one caller count. */
export interface RpcSummary {
  readonly stack: RpcStack;
  readonly callers: number;
  readonly runs: number;
  readonly serverCpuMicrosPerCall: number;
  readonly clientCpuMicrosPerCall: number;
  readonly callsPerSecond: number;
  readonly p50Micros: number;
  readonly p99Micros: number;
  readonly serverPeakRssBytes: number;
  readonly clientPeakRssBytes: number;
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
  /** The measured ratio. */
  readonly measured: number;
  /** `≤ limit` or `≥ limit`. */
  readonly comparison: '<=' | '>=';
  readonly limit: number;
  readonly met: boolean;
}

/** The stacks whose ratios are reported, and the baselines they are divided by. */
const kCompared: readonly RpcStack[] = ['netpoll-mux', 'netpoll-pool', 'netpoll-native-load'];
const kBaselines: readonly RpcStack[] = ['net', 'net-pool', 'grpc'];

/** Groups runs by caller count and stack (in the order first seen) and takes medians. */
export function summarizeRpc(results: readonly RpcRunResult[]): RpcSummary[] {
  const groups = new Map<string, RpcRunResult[]>();
  for (const result of results) {
    const key = `${result.callers}\u0000${result.stack}`;
    groups.set(key, [...(groups.get(key) ?? []), result]);
  }
  const of = (runs: readonly RpcRunResult[], figure: (run: RpcRunResult) => number) =>
    median(runs.map(figure));
  return [...groups.values()].map((runs) => ({
    stack: runs[0]!.stack,
    callers: runs[0]!.callers,
    runs: runs.length,
    serverCpuMicrosPerCall: of(runs, (run) => run.serverCpuMicrosPerCall),
    clientCpuMicrosPerCall: of(runs, (run) => run.clientCpuMicrosPerCall),
    callsPerSecond: of(runs, (run) => run.callsPerSecond),
    p50Micros: of(runs, (run) => run.p50Micros),
    p99Micros: of(runs, (run) => run.p99Micros),
    serverPeakRssBytes: of(runs, (run) => run.serverPeakRssBytes),
    clientPeakRssBytes: of(runs, (run) => run.clientPeakRssBytes),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
  }));
}

/** Ratios of every netpoll stack against net and grpc at the same caller count. */
export function rpcRatios(summaries: readonly RpcSummary[]): RpcRatio[] {
  const ratios: RpcRatio[] = [];
  for (const row of summaries) {
    if (!kCompared.includes(row.stack)) continue;
    for (const baselineStack of kBaselines) {
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
 * The targets (mux at 100 callers against net and grpc, pool at 100 callers against its
 * node:net equivalent, net-pool),
 * for the ratios that were measured.
 */
export function rpcTargets(ratios: readonly RpcRatio[]): RpcTarget[] {
  const find = (stack: RpcStack, baseline: RpcStack) =>
    ratios.find(
      (ratio) => ratio.stack === stack && ratio.baseline === baseline && ratio.callers === 100,
    );
  const targets: RpcTarget[] = [];
  const add = (description: string, measured: number, comparison: '<=' | '>=', limit: number) =>
    targets.push({
      description,
      measured,
      comparison,
      limit,
      met: comparison === '<=' ? measured <= limit : measured >= limit,
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
  return targets;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((cell, index) =>
    Math.max(cell.length, ...rows.map((row) => row[index]!.length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, index) => cell.padEnd(widths[index]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

const ratioText = (value: number): string =>
  Number.isFinite(value) ? `${value.toFixed(3)}x` : '-';
const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);

/** Renders one table per caller count, then the ratios and the targets. */
export function renderRpcReport(summaries: readonly RpcSummary[]): string {
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
          'client µs/call',
          'calls/s',
          'p50 µs',
          'p99 µs',
          'server RSS MB',
          'client RSS MB',
          'errors',
        ],
        rows.map((row) => [
          row.stack,
          row.serverCpuMicrosPerCall.toFixed(2),
          row.clientCpuMicrosPerCall.toFixed(2),
          Math.round(row.callsPerSecond).toString(),
          row.p50Micros.toFixed(0),
          row.p99Micros.toFixed(0),
          mb(row.serverPeakRssBytes),
          mb(row.clientPeakRssBytes),
          String(row.errors),
        ]),
      ),
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
  const targets = rpcTargets(ratios);
  if (targets.length > 0) {
    lines.push('', 'targets (medians)');
    lines.push(
      ...table(
        ['target', 'measured', 'wanted', ''],
        targets.map((target) => [
          target.description,
          ratioText(target.measured),
          `${target.comparison === '<=' ? '≤' : '≥'} ${ratioText(target.limit)}`,
          target.met ? 'met' : 'NOT met',
        ]),
      ),
    );
  }
  return lines.join('\n');
}
