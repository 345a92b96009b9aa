/**
 * The HTML report: one self-contained page (inline SVG charts, inline CSS, no script, nothing
 * fetched) with the date, the exact command, the machine, the charts and the tables of medians
 * and ratios for the RPC and echo matrices.
 */
import { kCImplementation } from '../echo-bench';
import { machineLine } from '../machine';
import type { Summary } from '../report';
import type { BenchResults } from '../results';
import { isNativeLoad } from '../rpc-commands';
import type { RpcSummary, RpcTarget } from '../rpc-report';
import { type ChartFile, echoServerName, kBaseline, rpcStackName } from './charts';

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const head = header.map((cell) => `<th>${escapeHtml(cell)}</th>`).join('');
  const body = rows
    .map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

const fixed = (value: number, digits: number): string => value.toFixed(digits);
const ratio = (value: number, base: number | undefined): string =>
  base === undefined || base === 0 ? '-' : `${(value / base).toFixed(2)}×`;
const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const count = (value: number): string => Math.round(value).toLocaleString('en-US');

function rpcTables(summaries: readonly RpcSummary[]): string {
  const callerCounts = [...new Set(summaries.map((row) => row.callers))];
  return callerCounts
    .map((callers) => {
      const rows = summaries.filter((row) => row.callers === callers);
      const base = rows.find((row) => row.stack === kBaseline);
      return `<h3>${callers} callers (medians of ${rows[0]!.runs} runs; ratios to node:net)</h3>\n${table(
        [
          'stack',
          'server µs/call',
          'vs net',
          'client µs/call',
          'vs net',
          'calls/s',
          'vs net',
          'p50 µs',
          'p99 µs',
          'vs net',
          'server RSS MB',
          'client RSS MB',
          'errors',
        ],
        rows.map((row) => [
          rpcStackName(row.stack),
          fixed(row.serverCpuMicrosPerCall, 2),
          ratio(row.serverCpuMicrosPerCall, base?.serverCpuMicrosPerCall),
          `${fixed(row.clientCpuMicrosPerCall, 2)}${isNativeLoad(row.stack) ? ' (C++)' : ''}`,
          ratio(row.clientCpuMicrosPerCall, base?.clientCpuMicrosPerCall),
          count(row.callsPerSecond),
          ratio(row.callsPerSecond, base?.callsPerSecond),
          count(row.p50Micros),
          count(row.p99Micros),
          ratio(row.p99Micros, base?.p99Micros),
          mb(row.serverPeakRssBytes),
          mb(row.clientPeakRssBytes),
          String(row.errors),
        ]),
      )}`;
    })
    .join('\n');
}

function targetsTable(targets: readonly RpcTarget[]): string {
  if (targets.length === 0) return '';
  const text = (target: RpcTarget, value: number) =>
    target.unit === 'ratio' ? `${value.toFixed(3)}×` : `${value.toFixed(1)} B/call`;
  return `<h3>Targets (RPC benchmark issue; 100 callers, medians)</h3>\n${table(
    ['target', 'measured', 'wanted', ''],
    targets.map((target) => [
      target.description,
      target.measured === null ? '-' : text(target, target.measured),
      `${target.comparison === '<=' ? '≤' : '≥'} ${text(target, target.limit)}`,
      target.measured === null ? 'not measured' : target.met ? 'met' : 'not met',
    ]),
  )}`;
}

function echoTables(summaries: readonly Summary[]): string {
  const scenarios = [...new Set(summaries.map((row) => row.scenario))];
  return scenarios
    .map((scenario) => {
      const rows = summaries.filter((row) => row.scenario === scenario);
      const base = rows.find((row) => row.implementation === kBaseline);
      const floor = rows.find((row) => row.implementation === kCImplementation);
      return `<h3>${escapeHtml(scenario)} (medians of ${rows[0]!.runs} runs; ratios to node:net and to the C floor)</h3>\n${table(
        [
          'server',
          'CPU µs/req',
          'vs net',
          'vs C floor',
          'req/s',
          'vs net',
          'p50 µs',
          'p99 µs',
          'vs net',
          'peak RSS MB',
          'vs net',
          'errors',
        ],
        rows.map((row) => [
          echoServerName(row.implementation),
          fixed(row.cpuMicrosPerRequest, 2),
          ratio(row.cpuMicrosPerRequest, base?.cpuMicrosPerRequest),
          ratio(row.cpuMicrosPerRequest, floor?.cpuMicrosPerRequest),
          count(row.requestsPerSecond),
          ratio(row.requestsPerSecond, base?.requestsPerSecond),
          count(row.p50Micros),
          count(row.p99Micros),
          ratio(row.p99Micros, base?.p99Micros),
          mb(row.peakRssBytes),
          ratio(row.peakRssBytes, base?.peakRssBytes),
          String(row.errors),
        ]),
      )}`;
    })
    .join('\n');
}

const figure = (chart: ChartFile): string =>
  `<figure id="${escapeHtml(chart.file.replace(/\.svg$/, ''))}" class="chart">\n${chart.svg}\n<figcaption>${escapeHtml(chart.title)} — <code>${escapeHtml(chart.file)}</code></figcaption>\n</figure>`;

const kStyle = `body{font-family:Helvetica,Arial,sans-serif;margin:24px auto;max-width:1280px;color:#222;padding:0 16px}
h1{font-size:24px}h2{margin-top:40px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px;margin-top:24px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}thead{background:#f4f4f4}
code{background:#f4f4f4;padding:1px 4px;word-break:break-all}dl{display:grid;grid-template-columns:max-content auto;gap:4px 16px}dt{font-weight:bold}
figure.chart{margin:16px 0}figure.chart svg{max-width:100%;height:auto;border:1px solid #eee}figcaption{font-size:12px;color:#666}
.note{font-size:13px;color:#444;max-width:980px}`;

/** The whole page. `charts` are those of `renderCharts(results)`. */
export function renderHtml(results: BenchResults, charts: readonly ChartFile[]): string {
  const rpcCharts = charts.filter((chart) => chart.file.startsWith('rpc-'));
  const echoCharts = charts.filter((chart) => chart.file.startsWith('echo-'));
  const minutes = (results.elapsedMs / 60_000).toFixed(1);
  const sections: string[] = [];
  if (results.rpc !== null) {
    const payload = results.rpc.options.payloadSize;
    sections.push(`<h2 id="rpc">RPC: ${payload}-byte unary echo</h2>
<p class="note">Each stack's server runs in its own process pinned to CPU 0, its client on CPU 1; CPU per call is each process's
CPU time over the measured window divided by the calls completed in it. <b>starter</b> is apps/echo's RPC starter as it ships
(one reactor thread, logging interceptor, metrics) called with its typed <code>@netpoll/rpc</code> client; its <code>echo</code>
takes and returns <code>{ message }</code> as JSON (the payload as ${payload} ASCII characters), more work per call than the raw
bytes every other stack echoes. <b>netpoll-mux</b>/<b>netpoll-pool</b> are <code>@netpoll/rpc</code>'s server with a raw-bytes
<code>echo</code> and its client's mux/pool transports; <b>net</b>/<b>net-pool</b> an idiomatic <code>node:net</code> RPC;
<b>grpc</b> <code>@grpc/grpc-js</code> with raw-bytes serializers; <b>netpoll (C++ load)</b> <code>@netpoll/rpc</code>'s server
and <b>net (C++ load)</b> net's server under the same C++ load generator, speaking each server's framing, and <b>C server
(C++ load)</b> a plain C epoll echo server under it, the floor the kernel sets for any server (their client column is the C++
client's).</p>
${rpcCharts.map(figure).join('\n')}
${rpcTables(results.rpc.summaries)}
${targetsTable(results.rpc.targets)}`);
  }
  if (results.echo !== null) {
    const hasFloor = results.echo.summaries.some((row) => row.implementation === kCImplementation);
    sections.push(`<h2 id="echo">Raw echo: ${results.echo.options.payloadSize}-byte length-header frames</h2>
<p class="note">apps/echo's raw echo servers — <b>core</b> (<code>@netpoll/core</code>), <b>net</b> (idiomatic <code>node:net</code>),
<b>net-batched</b> (hand-optimised <code>node:net</code>) — pinned to CPU 0, driven by this package's load generator on CPU 1.
${
  hasFloor
    ? '<b>C floor</b> is the plain C epoll echo server of <code>packages/core/bench/c-echo</code>, measured in this same run under the same load.'
    : 'This run had no C floor (the <code>c</code> server was not in <code>--impls</code>).'
}</p>
${echoCharts.map(figure).join('\n')}
${echoTables(results.echo.summaries)}`);
  }
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>@netpoll benchmark report — ${escapeHtml(results.finished.slice(0, 10))}</title>
<style>${kStyle}</style>
</head>
<body>
<h1>@netpoll benchmark report</h1>
<dl>
<dt>date</dt><dd>${escapeHtml(results.started)} to ${escapeHtml(results.finished)} (${minutes} min)</dd>
<dt>command</dt><dd><code>${escapeHtml(results.command)}</code></dd>
<dt>machine</dt><dd>${escapeHtml(machineLine(results.machine))}, ${escapeHtml(results.machine.platform)}</dd>
</dl>
<p class="note">Medians over the repeats; every ratio is against node:net measured in the same run. CPU per call or request is the
stable figure on a shared machine; calls/s and p99 depend on whichever side saturates its core first. Every run's figures are in
the results file this page was rendered from.</p>
${sections.join('\n')}
</body>
</html>
`;
}
