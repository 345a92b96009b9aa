/**
 * The short side-by-side printed at the end of `main.js all` (and so by `pnpm demo`): per caller
 * count and per echo scenario, each figure with its ratio against node:net of the same run (and,
 * for the echo servers, against the C floor).
 */
import { kCImplementation } from './echo-bench';
import { echoServerName, formatFigure, kBaseline, rpcStackName } from './report/charts';
import type { BenchResults } from './results';
import { isNativeLoad } from './rpc-commands';
import { alignColumns } from './text-table';

const columns = (header: readonly string[], rows: readonly (readonly string[])[]): string[] =>
  alignColumns(header, rows, '   ');

const withRatio = (value: number, base: number | undefined, digits = 2, isBase = false): string => {
  const text = digits < 0 ? formatFigure(value) : value.toFixed(digits);
  if (isBase) return `${text} (base)`;
  return base === undefined || base === 0 ? text : `${text} (${(value / base).toFixed(2)}x)`;
};

/** The side-by-side tables of `results`. */
export function renderSideBySide(results: BenchResults): string {
  const lines: string[] = [];
  if (results.rpc !== null) {
    const { summaries, options } = results.rpc;
    for (const callers of new Set(summaries.map((row) => row.callers))) {
      const rows = summaries.filter((row) => row.callers === callers);
      const base = rows.find((row) => row.stack === kBaseline);
      lines.push(
        '',
        `RPC, ${options.payloadSize}-byte unary echo, ${callers} callers (medians of ${rows[0]!.runs} runs; in brackets: ratio to net)`,
        ...columns(
          ['stack', 'server CPU µs/call', 'client CPU µs/call', 'calls/s', 'p99 µs', 'errors'],
          rows.map((row) => {
            const isBase = row === base;
            return [
              rpcStackName(row.stack),
              withRatio(row.serverCpuMicrosPerCall, base?.serverCpuMicrosPerCall, 2, isBase),
              `${withRatio(row.clientCpuMicrosPerCall, base?.clientCpuMicrosPerCall, 2, isBase)}${isNativeLoad(row.stack) ? ' C++' : ''}`,
              withRatio(row.callsPerSecond, base?.callsPerSecond, -1, isBase),
              withRatio(row.p99Micros, base?.p99Micros, 0, isBase),
              String(row.errors),
            ];
          }),
        ),
      );
    }
  }
  if (results.echo !== null) {
    const { summaries, options } = results.echo;
    for (const scenario of new Set(summaries.map((row) => row.scenario))) {
      const rows = summaries.filter((row) => row.scenario === scenario);
      const base = rows.find((row) => row.implementation === kBaseline);
      const floor = rows.find((row) => row.implementation === kCImplementation);
      lines.push(
        '',
        `raw echo, ${options.payloadSize}-byte frames, ${scenario} (medians of ${rows[0]!.runs} runs; in brackets: ratio to net)`,
        ...columns(
          ['server', 'CPU µs/req', 'vs C floor', 'req/s', 'p99 µs', 'peak RSS MB', 'errors'],
          rows.map((row) => {
            const isBase = row === base;
            return [
              echoServerName(row.implementation),
              withRatio(row.cpuMicrosPerRequest, base?.cpuMicrosPerRequest, 2, isBase),
              floor === undefined
                ? '-'
                : `${(row.cpuMicrosPerRequest / floor.cpuMicrosPerRequest).toFixed(2)}x`,
              withRatio(row.requestsPerSecond, base?.requestsPerSecond, -1, isBase),
              withRatio(row.p99Micros, base?.p99Micros, 0, isBase),
              withRatio(row.peakRssBytes / 2 ** 20, base && base.peakRssBytes / 2 ** 20, 1, isBase),
              String(row.errors),
            ];
          }),
        ),
      );
    }
  }
  return lines.join('\n');
}
