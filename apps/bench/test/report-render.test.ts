import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatFigure, ratioLabel, renderCharts } from '../src/report/charts';
import { escapeHtml, renderHtml } from '../src/report/html';
import {
  currentSection,
  kSectionEnd,
  kSectionStart,
  markdownTable,
  renderWhereItStands,
  replaceSection,
} from '../src/report/readme';
import { formatJson, readResults } from '../src/results';
import { renderSideBySide } from '../src/summary-text';

// A small real run of `main.js all` (RPC: starter, netpoll-mux, net, grpc, the C++ load at 100
// callers; echo: C floor, core, net in two scenarios; one repeat each).
const kFixture = join(__dirname, 'fixtures', 'results-small.json');
const results = readResults(kFixture);
const rpcRow = (stack: string) => results.rpc!.summaries.find((row) => row.stack === stack)!;
const echoRow = (implementation: string, scenario: string) =>
  results.echo!.summaries.find(
    (row) => row.implementation === implementation && row.scenario === scenario,
  )!;

describe('renderCharts', () => {
  const charts = renderCharts(results);
  const chart = (file: string) => charts.find((item) => item.file === file)!.svg;

  it('draws four RPC and four echo charts, each a standalone SVG document', () => {
    expect(charts.map((item) => item.file)).toEqual([
      'rpc-cpu.svg',
      'rpc-throughput.svg',
      'rpc-latency.svg',
      'rpc-rss.svg',
      'echo-cpu.svg',
      'echo-throughput.svg',
      'echo-latency.svg',
      'echo-rss.svg',
    ]);
    for (const item of charts) {
      expect(item.svg.startsWith('<svg')).toBe(true);
      expect(item.svg.trimEnd().endsWith('</svg>')).toBe(true);
      // Bars and axes are paths: a chart with no data would have a handful.
      expect((item.svg.match(/<path /g) ?? []).length).toBeGreaterThan(10);
    }
  });

  it("labels every RPC stack's server and client CPU with its value and its ratio to net", () => {
    const svg = chart('rpc-cpu.svg');
    const net = rpcRow('net');
    for (const stack of ['starter', 'netpoll-mux', 'grpc']) {
      const row = rpcRow(stack);
      expect(svg).toContain(formatFigure(row.serverCpuMicrosPerCall));
      expect(svg).toContain(ratioLabel(row.serverCpuMicrosPerCall, net.serverCpuMicrosPerCall)!);
      expect(svg).toContain(ratioLabel(row.clientCpuMicrosPerCall, net.clientCpuMicrosPerCall)!);
    }
    // node:net's own lines, and the C++ client said as such.
    expect(svg).toContain(`net server ${formatFigure(net.serverCpuMicrosPerCall)}`);
    expect(svg).toContain(`net client ${formatFigure(net.clientCpuMicrosPerCall)}`);
    expect(svg).toContain('netpoll (C++ load)');
    expect(svg).toContain('C++');
  });

  it('marks the C floor and node:net on the echo CPU panels, with ratios to both', () => {
    const svg = chart('echo-cpu.svg');
    for (const scenario of ['ping-pong, 100 conns', 'pipelined x16, 100 conns']) {
      const floor = echoRow('c', scenario);
      const net = echoRow('net', scenario);
      const core = echoRow('core', scenario);
      expect(svg).toContain(scenario);
      expect(svg).toContain(`C ${formatFigure(floor.cpuMicrosPerRequest)}`);
      expect(svg).toContain(`net ${formatFigure(net.cpuMicrosPerRequest)}`);
      expect(svg).toContain(ratioLabel(core.cpuMicrosPerRequest, net.cpuMicrosPerRequest)!);
      expect(svg).toContain(ratioLabel(core.cpuMicrosPerRequest, floor.cpuMicrosPerRequest, ' C')!);
    }
    expect(svg).toContain('C floor');
  });

  it('draws only the matrices a results file has', () => {
    const rpcOnly = renderCharts({ ...results, echo: null });
    expect(rpcOnly.map((item) => item.file)).toEqual([
      'rpc-cpu.svg',
      'rpc-throughput.svg',
      'rpc-latency.svg',
      'rpc-rss.svg',
    ]);
  });
});

describe('formatFigure and ratioLabel', () => {
  it.each([
    [1.234, '1.23'],
    [12.34, '12.3'],
    [123.4, '123'],
    [12_345, '12k'],
    [1_234_567, '1.23M'],
  ])('formats %d as %s', (value, text) => {
    expect(formatFigure(value)).toBe(text);
  });

  it('divides by the baseline, and gives nothing without one', () => {
    expect(ratioLabel(3, 12)).toBe('0.25×');
    expect(ratioLabel(9, 6, ' C')).toBe('1.50× C');
    expect(ratioLabel(3, undefined)).toBeNull();
    expect(ratioLabel(3, 0)).toBeNull();
  });
});

describe('renderHtml', () => {
  const charts = renderCharts(results);
  const html = renderHtml(results, charts);

  it('is one self-contained page: every chart inline, no script, nothing fetched', () => {
    expect((html.match(/<svg/g) ?? []).length).toBe(charts.length);
    expect(html).not.toMatch(/<script|<link|src="http/);
  });

  it('names the command, the machine and the date', () => {
    expect(html).toContain(escapeHtml(results.command));
    expect(html).toContain(results.machine.cpuModel);
    expect(html).toContain(results.machine.node);
    expect(html).toContain(results.started);
  });

  it('has the tables of medians with ratios to net and to the C floor', () => {
    const core = echoRow('core', 'ping-pong, 100 conns');
    expect(html).toContain(`<td>${core.cpuMicrosPerRequest.toFixed(2)}</td>`);
    expect(html).toContain('vs C floor');
    expect(html).toContain(`<td>${rpcRow('netpoll-mux').serverCpuMicrosPerCall.toFixed(2)}</td>`);
    expect(html).toContain('Targets');
  });
});

describe('the README section', () => {
  const body = renderWhereItStands(results, {
    resultsDir: 'apps/bench/results/latest',
    resultsFile: 'apps/bench/results/latest/results.json',
  });

  it('has the command, both tables and the charts', () => {
    expect(body).toContain(`\`${results.command}\``);
    expect(body).toMatch(/\| 100 +\| starter +\| /);
    expect(body).toMatch(/\| ping-pong, 100 conns +\| C floor +\| /);
    expect(body).toContain(
      '![RPC: CPU per call, server and client](apps/bench/results/latest/rpc-cpu.svg)',
    );
    expect(body).toContain(
      '![Raw echo: server CPU per request](apps/bench/results/latest/echo-cpu.svg)',
    );
    const mux = rpcRow('netpoll-mux');
    const net = rpcRow('net');
    expect(body).toContain(
      `| ${(mux.serverCpuMicrosPerCall / net.serverCpuMicrosPerCall).toFixed(2)}×`,
    );
  });

  it('replaces only what is between the markers', () => {
    const readme = `# title\n\nbefore\n${kSectionStart}\nold\n${kSectionEnd}\nafter\n`;
    const next = replaceSection(readme, body);
    expect(next.startsWith('# title\n\nbefore\n')).toBe(true);
    expect(next.endsWith(`${kSectionEnd}\nafter\n`)).toBe(true);
    expect(currentSection(next)).toBe(body);
    expect(replaceSection(next, body)).toBe(next);
    expect(() => replaceSection('# no markers', body)).toThrow(/markers/);
  });

  it('pads markdown tables to the widest cell', () => {
    expect(markdownTable(['a', 'long header'], [['xyzw', '1']])).toBe(
      '| a    | long header |\n| ---- | ----------- |\n| xyzw | 1           |',
    );
  });
});

describe('renderSideBySide', () => {
  it('prints each stack and server with its ratio to net', () => {
    const text = renderSideBySide(results);
    const mux = rpcRow('netpoll-mux');
    const net = rpcRow('net');
    expect(text).toContain('RPC, 1024-byte unary echo, 100 callers');
    expect(text).toContain(
      `${mux.serverCpuMicrosPerCall.toFixed(2)} (${(mux.serverCpuMicrosPerCall / net.serverCpuMicrosPerCall).toFixed(2)}x)`,
    );
    expect(text).toContain('raw echo, 1024-byte frames, ping-pong, 100 conns');
    expect(text).toMatch(/^C floor +\d/m);
  });
});

describe('formatJson', () => {
  it('keeps the data, with short arrays of plain values on one line', () => {
    const value = { a: [1, 2, 3], b: { c: 'x', d: [] }, e: [{ f: null }], g: undefined };
    const text = formatJson(value);
    expect(JSON.parse(text)).toEqual({ a: [1, 2, 3], b: { c: 'x', d: [] }, e: [{ f: null }] });
    expect(text).toBe(
      '{\n  "a": [1, 2, 3],\n  "b": {\n    "c": "x",\n    "d": []\n  },\n  "e": [\n    {\n      "f": null\n    }\n  ]\n}\n',
    );
  });

  it('writes the fixture as it is committed', () => {
    expect(formatJson(JSON.parse(readFileSync(kFixture, 'utf8')))).toBe(
      readFileSync(kFixture, 'utf8'),
    );
  });
});
