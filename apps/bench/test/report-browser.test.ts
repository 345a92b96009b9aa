import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeReport } from '../src/report-main';
import { readResults } from '../src/results';
import { findChromium, runChromium } from './helpers/chromium';
import { countColor, decodePng, inkStats } from './helpers/png';

// The HTML report of a small real run, opened in Debian's headless Chromium: the page is laid out
// by the browser, a probe script measures every chart there, a screenshot is taken, and its
// pixels are checked chart by chart. Without chromium this fails (it never skips).
const kFixture = join(__dirname, 'fixtures', 'results-small.json');
// Kept after the run (build/ is ignored) so a failure can be looked at.
const kDir = join(__dirname, '..', 'build', 'report-browser');
const kWidth = 1400;
const kHeight = 7000;

// Appended to a copy of the report (the report itself has no script): what the browser laid out.
const kProbe = `<script>
const charts = [...document.querySelectorAll('figure.chart')].map((figure) => {
  const svg = figure.querySelector('svg');
  const box = svg.getBoundingClientRect();
  const painted = [...svg.querySelectorAll('path')].filter((path) => {
    const b = path.getBBox();
    return b.width > 2 && b.height > 2 && path.getAttribute('fill') !== 'none';
  }).length;
  return { id: figure.id, x: box.x, y: box.y, width: box.width, height: box.height, painted,
    texts: [...svg.querySelectorAll('text')].map((text) => text.textContent).join('|') };
});
const probe = document.createElement('pre');
probe.id = 'probe';
probe.textContent = JSON.stringify({ charts, pageHeight: document.documentElement.scrollHeight });
document.body.append(probe);
</script>`;

interface ProbedChart {
  readonly id: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly painted: number;
  readonly texts: string;
}

const unescapeHtml = (text: string): string =>
  text
    .replaceAll('&quot;', '"')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');

describe('the HTML report in headless Chromium', () => {
  let chromium: string;
  let probe: { readonly charts: readonly ProbedChart[]; readonly pageHeight: number };
  let screenshot: string;

  beforeAll(async () => {
    chromium = findChromium();
    rmSync(kDir, { recursive: true, force: true });
    mkdirSync(kDir, { recursive: true });
    const report = writeReport(readResults(kFixture), kDir);
    const page = join(kDir, 'probe.html');
    writeFileSync(page, readFileSync(report, 'utf8').replace('</body>', `${kProbe}\n</body>`));
    const url = pathToFileURL(page).href;
    const size = `--window-size=${kWidth},${kHeight}`;
    screenshot = join(kDir, 'report.png');
    const [dom] = await Promise.all([
      runChromium(chromium, [size, '--dump-dom', url]),
      runChromium(chromium, [size, `--screenshot=${screenshot}`, url]),
    ]);
    const match = /<pre id="probe">([^<]*)<\/pre>/.exec(dom);
    if (match === null) throw new Error(`the probe did not run: ${dom.slice(0, 500)}`);
    probe = JSON.parse(unescapeHtml(match[1]!));
  }, 150_000);

  it('lays out all eight charts, each with painted bars and its labels', () => {
    expect(probe.pageHeight).toBeLessThanOrEqual(kHeight);
    expect(probe.charts.map((chart) => chart.id)).toEqual([
      'rpc-cpu',
      'rpc-throughput',
      'rpc-latency',
      'rpc-rss',
      'echo-cpu',
      'echo-throughput',
      'echo-latency',
      'echo-rss',
    ]);
    // The fixture has 5 RPC stacks at one caller count, and 3 echo servers in 2 scenarios.
    const results = readResults(kFixture);
    const stacks = results.rpc!.summaries.length;
    const servers = results.echo!.summaries.length;
    const bars: Record<string, number> = {
      'rpc-cpu': stacks * 2,
      'rpc-throughput': stacks,
      'rpc-latency': stacks * 2,
      'rpc-rss': stacks * 2,
      'echo-cpu': servers,
      'echo-throughput': servers,
      'echo-latency': servers * 2,
      'echo-rss': servers,
    };
    for (const chart of probe.charts) {
      expect(chart.width).toBeGreaterThan(400);
      expect(chart.height).toBeGreaterThan(250);
      // Every bar is a filled path with a real size (an empty chart has only its axes).
      expect({ chart: chart.id, painted: chart.painted >= bars[chart.id]! }).toEqual({
        chart: chart.id,
        painted: true,
      });
      expect(chart.texts).toContain('×');
    }
    expect(probe.charts.find((chart) => chart.id === 'echo-cpu')!.texts).toContain('C floor');
  });

  it('takes a screenshot in which every chart is drawn, in its series colours', () => {
    expect(statSync(screenshot).size).toBeGreaterThan(50_000);
    const image = decodePng(readFileSync(screenshot));
    expect(image.width).toBe(kWidth);
    expect(image.height).toBe(kHeight);
    const whole = inkStats(image);
    expect(whole.ink).toBeGreaterThan(0.03);
    expect(whole.colors).toBeGreaterThan(100);
    // The colours each chart's bars are drawn in (src/report/charts.ts).
    const expected: Record<string, readonly string[]> = {
      'rpc-cpu': ['#1f77b4', '#9467bd'],
      'rpc-throughput': ['#2ca02c', '#1f77b4', '#ff7f0e', '#d62728', '#17becf'],
      'rpc-latency': ['#9ecae1', '#3182bd'],
      'rpc-rss': ['#1f77b4', '#9467bd'],
      'echo-cpu': ['#8c8c8c', '#1f77b4', '#ff7f0e'],
      'echo-throughput': ['#8c8c8c', '#1f77b4', '#ff7f0e'],
      'echo-latency': ['#9ecae1', '#3182bd'],
      'echo-rss': ['#1f77b4', '#ff7f0e'],
    };
    for (const chart of probe.charts) {
      const area = {
        x: Math.floor(chart.x),
        y: Math.floor(chart.y),
        width: Math.floor(chart.width),
        height: Math.floor(chart.height),
      };
      for (const color of expected[chart.id]!) {
        // A bar is at least a few pixels wide and tall: tens of pixels of its exact colour.
        expect({ chart: chart.id, color, pixels: countColor(image, color, area) > 40 }).toEqual({
          chart: chart.id,
          color,
          pixels: true,
        });
      }
    }
  });
});
