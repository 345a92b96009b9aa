/**
 * The report's charts, from a results file: for the RPC matrix and the raw echo matrix, CPU per
 * call/request, throughput, p50/p99 and peak RSS, one panel per caller count or scenario. Every
 * bar is labelled with its value and its ratio against node:net of the same run; the echo CPU
 * panels mark the C floor (the plain C epoll server, when the run had it) and node:net with
 * dashed lines, the RPC CPU panels node:net's server and client.
 */
import { kCImplementation } from '../echo-bench';
import type { Summary } from '../report';
import type { BenchResults } from '../results';
import { isNativeLoad } from '../rpc-commands';
import type { RpcSummary } from '../rpc-report';
import { type BarChart, type Panel, renderBarChart } from './svg-chart';

/** A rendered chart and the file it is saved as. */
export interface ChartFile {
  /** e.g. `rpc-cpu.svg`. */
  readonly file: string;
  readonly title: string;
  readonly svg: string;
}

/** The baseline every ratio is taken against, in both matrices. */
export const kBaseline = 'net';

const kColors: Readonly<Record<string, string>> = {
  c: '#8c8c8c',
  core: '#1f77b4',
  net: '#ff7f0e',
  'net-batched': '#f5b971',
  starter: '#2ca02c',
  'netpoll-mux': '#1f77b4',
  'netpoll-pool': '#7fb2dc',
  'netpoll-native-load': '#17becf',
  'net-native-load': '#bcbd22',
  'c-native-load': '#7f7f7f',
  'net-pool': '#f5b971',
  grpc: '#d62728',
};
const kServerSide = '#1f77b4';
const kClientSide = '#9467bd';
const kFloorColor = '#555555';
const kNetColor = '#ff7f0e';

const colorOf = (name: string): string => kColors[name] ?? '#7f7f7f';

/** A figure for a label: 3 significant digits, k/M for large numbers. */
export function formatFigure(value: number): string {
  if (!Number.isFinite(value)) return '-';
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toPrecision(3)}M`;
  if (abs >= 1e4) return `${Math.round(value / 1e3)}k`;
  if (abs >= 100) return String(Math.round(value));
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** `0.62×` (or `1.07× C` with a `suffix`); `null` when there is no baseline figure. */
export function ratioLabel(value: number, base: number | undefined, suffix = ''): string | null {
  if (base === undefined || base === 0 || !Number.isFinite(value / base)) return null;
  return `${(value / base).toFixed(2)}×${suffix}`;
}

const join = (...parts: (string | null)[]): string =>
  parts.filter((part) => part !== null).join('\n');

/** How an echo server is named on the charts. */
export function echoServerName(implementation: string): string {
  return implementation === kCImplementation ? 'C floor' : implementation;
}

function echoPanels(
  summaries: readonly Summary[],
  figure: (row: Summary) => number,
  options: { readonly floorLines?: boolean; readonly cRatio?: boolean } = {},
): Panel[] {
  const scenarios = [...new Set(summaries.map((row) => row.scenario))];
  return scenarios.map((scenario) => {
    const rows = summaries.filter((row) => row.scenario === scenario);
    const base = rows.find((row) => row.implementation === kBaseline);
    const floor = rows.find((row) => row.implementation === kCImplementation);
    const labels = rows.map((row) =>
      join(
        formatFigure(figure(row)),
        row === base ? 'node:net' : ratioLabel(figure(row), base && figure(base)),
        options.cRatio === true && floor !== undefined && row !== floor
          ? ratioLabel(figure(row), figure(floor), ' C')
          : null,
      ),
    );
    const lines = [];
    if (options.floorLines === true && floor !== undefined) {
      lines.push({
        label: `C ${formatFigure(figure(floor))}`,
        value: figure(floor),
        color: kFloorColor,
      });
    }
    if (options.floorLines === true && base !== undefined) {
      lines.push({
        label: `net ${formatFigure(figure(base))}`,
        value: figure(base),
        color: kNetColor,
      });
    }
    return {
      title: scenario,
      categories: rows.map((row) => echoServerName(row.implementation)),
      series: [
        {
          name: 'server',
          values: rows.map(figure),
          labels,
          colors: rows.map((row) => colorOf(row.implementation)),
        },
      ],
      lines,
    };
  });
}

function echoLatencyPanels(summaries: readonly Summary[]): Panel[] {
  const scenarios = [...new Set(summaries.map((row) => row.scenario))];
  return scenarios.map((scenario) => {
    const rows = summaries.filter((row) => row.scenario === scenario);
    const base = rows.find((row) => row.implementation === kBaseline);
    return {
      title: scenario,
      categories: rows.map((row) => echoServerName(row.implementation)),
      series: [
        {
          name: 'p50',
          values: rows.map((row) => row.p50Micros),
          labels: rows.map((row) => formatFigure(row.p50Micros)),
          color: '#9ecae1',
        },
        {
          name: 'p99',
          values: rows.map((row) => row.p99Micros),
          labels: rows.map((row) =>
            join(
              formatFigure(row.p99Micros),
              row === base ? null : ratioLabel(row.p99Micros, base?.p99Micros),
            ),
          ),
          color: '#3182bd',
        },
      ],
    };
  });
}

const kRpcStackNames: Readonly<Record<string, string>> = {
  'netpoll-native-load': 'netpoll (C++ load)',
  'net-native-load': 'net (C++ load)',
  'c-native-load': 'C server (C++ load)',
};

/** How an RPC stack is named on the charts. */
export function rpcStackName(stack: string): string {
  return kRpcStackNames[stack] ?? stack;
}

function rpcPanels(
  summaries: readonly RpcSummary[],
  sides: readonly {
    readonly name: string;
    readonly figure: (row: RpcSummary) => number;
    readonly color: string;
    /** A label suffix for a row (e.g. that the client is C++). */
    readonly note?: (row: RpcSummary) => string | null;
  }[],
  options: { readonly baselineLines?: boolean } = {},
): Panel[] {
  const callerCounts = [...new Set(summaries.map((row) => row.callers))];
  return callerCounts.map((callers) => {
    const rows = summaries.filter((row) => row.callers === callers);
    const base = rows.find((row) => row.stack === kBaseline);
    return {
      title: `${callers} callers`,
      categories: rows.map((row) => rpcStackName(row.stack)),
      series: sides.map((side) => ({
        name: side.name,
        values: rows.map(side.figure),
        labels: rows.map((row) =>
          join(
            formatFigure(side.figure(row)),
            side.note?.(row) ?? null,
            row === base ? null : ratioLabel(side.figure(row), base && side.figure(base)),
          ),
        ),
        ...(sides.length === 1
          ? { colors: rows.map((row) => colorOf(row.stack)) }
          : { color: side.color }),
      })),
      lines:
        options.baselineLines === true && base !== undefined
          ? sides.map((side) => ({
              label: `net ${side.name} ${formatFigure(side.figure(base))}`,
              value: side.figure(base),
              color: side.color,
            }))
          : [],
    };
  });
}

const mb = (bytes: number): number => bytes / 2 ** 20;

/** Every chart the results have data for, RPC first. */
export function renderCharts(results: BenchResults): ChartFile[] {
  const charts: (BarChart & { readonly file: string })[] = [];
  const rpc = results.rpc?.summaries ?? [];
  if (rpc.length > 0) {
    const payload = results.rpc!.options.payloadSize;
    charts.push(
      {
        file: 'rpc-cpu.svg',
        title: 'RPC: CPU µs per call, server and client (lower is better)',
        subtitle: `${payload}-byte unary echo; labels: value, and ratio to node:net's same side (×); dashed: node:net`,
        unit: 'µs/call (log)',
        log: true,
        panels: rpcPanels(
          rpc,
          [
            {
              name: 'server',
              figure: (row) => row.serverCpuMicrosPerCall,
              color: kServerSide,
            },
            {
              name: 'client',
              figure: (row) => row.clientCpuMicrosPerCall,
              color: kClientSide,
              note: (row) => (isNativeLoad(row.stack) ? 'C++' : null),
            },
          ],
          { baselineLines: true },
        ),
      },
      {
        file: 'rpc-throughput.svg',
        title: 'RPC: calls/s (higher is better)',
        subtitle: 'closed loop, server on CPU 0 and client on CPU 1; labels: ratio to node:net (×)',
        unit: 'calls/s (log)',
        log: true,
        panels: rpcPanels(rpc, [
          { name: 'calls/s', figure: (row) => row.callsPerSecond, color: kServerSide },
        ]),
      },
      {
        file: 'rpc-latency.svg',
        title: 'RPC: round-trip latency p50 / p99 (lower is better)',
        subtitle: 'labels on p99: ratio to node:net (×)',
        unit: 'µs (log)',
        log: true,
        panels: rpcPanels(rpc, [
          { name: 'p50', figure: (row) => row.p50Micros, color: '#9ecae1' },
          { name: 'p99', figure: (row) => row.p99Micros, color: '#3182bd' },
        ]).map((panel) => ({
          ...panel,
          series: panel.series.map((series) =>
            series.name === 'p50'
              ? {
                  ...series,
                  labels: series.values.map((v) => (v === null ? null : formatFigure(v))),
                }
              : series,
          ),
        })),
      },
      {
        file: 'rpc-rss.svg',
        title: 'RPC: peak RSS, server and client (lower is better)',
        subtitle: 'VmHWM at the end of the measured window; labels: ratio to node:net (×)',
        unit: 'MB',
        panels: rpcPanels(rpc, [
          { name: 'server', figure: (row) => mb(row.serverPeakRssBytes), color: kServerSide },
          { name: 'client', figure: (row) => mb(row.clientPeakRssBytes), color: kClientSide },
        ]),
      },
    );
  }
  const echo = results.echo?.summaries ?? [];
  if (echo.length > 0) {
    const hasFloor = echo.some((row) => row.implementation === kCImplementation);
    charts.push(
      {
        file: 'echo-cpu.svg',
        title: 'Raw echo: server CPU µs per request (lower is better)',
        subtitle: `labels: value, ratio to node:net (×)${hasFloor ? ' and to the C floor (× C: the plain C epoll server, same run)' : ''}; dashed: ${hasFloor ? 'C floor and ' : ''}node:net`,
        unit: 'µs/request',
        panels: echoPanels(echo, (row) => row.cpuMicrosPerRequest, {
          floorLines: true,
          cRatio: true,
        }),
      },
      {
        file: 'echo-throughput.svg',
        title: 'Raw echo: requests/s (higher is better)',
        subtitle: 'closed loop, one Node load generator on CPU 1; labels: ratio to node:net (×)',
        unit: 'requests/s',
        panels: echoPanels(echo, (row) => row.requestsPerSecond),
      },
      {
        file: 'echo-latency.svg',
        title: 'Raw echo: round-trip latency p50 / p99 (lower is better)',
        subtitle: 'labels on p99: ratio to node:net (×)',
        unit: 'µs (log)',
        log: true,
        panels: echoLatencyPanels(echo),
      },
      {
        file: 'echo-rss.svg',
        title: 'Raw echo: server peak RSS (lower is better)',
        subtitle: 'VmHWM at the end of the measured window; labels: ratio to node:net (×)',
        unit: 'MB',
        panels: echoPanels(echo, (row) => mb(row.peakRssBytes), { cRatio: false }),
      },
    );
  }
  return charts.map((chart) => ({
    file: chart.file,
    title: chart.title,
    svg: renderBarChart(chart),
  }));
}
