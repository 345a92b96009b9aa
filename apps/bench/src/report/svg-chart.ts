/**
 * Bar charts drawn server-side as SVG by ECharts (`echarts.init(null, null, { renderer: 'svg',
 * ssr: true })` and `renderToSVGString()`): no browser, no DOM. A chart is a row of panels (one
 * per scenario or caller count), each with its own axes, bars, value labels and dashed reference
 * lines (the C floor, the node:net baseline).
 */
import * as echarts from 'echarts';

/** One bar series of a panel. */
export interface BarSeries {
  readonly name: string;
  /** One value per category; null: no bar. */
  readonly values: readonly (number | null)[];
  /** The label over each bar (may hold '\n'); none when missing. */
  readonly labels?: readonly (string | null)[];
  /** One colour for the series, or one per category (then the legend shows the series' name only). */
  readonly color?: string;
  readonly colors?: readonly string[];
}

/** A dashed horizontal reference line across a panel. */
export interface ReferenceLine {
  readonly label: string;
  readonly value: number;
  readonly color: string;
}

export interface Panel {
  readonly title: string;
  readonly categories: readonly string[];
  readonly series: readonly BarSeries[];
  readonly lines?: readonly ReferenceLine[];
}

export interface BarChart {
  readonly title: string;
  readonly subtitle?: string;
  /** The value axis' name (unit). */
  readonly unit: string;
  /** A log value axis (for stacks that differ by orders of magnitude). */
  readonly log?: boolean;
  readonly panels: readonly Panel[];
  readonly width?: number;
  readonly height?: number;
}

const kFont = 'Helvetica, Arial, sans-serif';

/** Renders `chart` to a standalone SVG document (white background, fixed size). */
export function renderBarChart(chart: BarChart): string {
  const count = chart.panels.length;
  const left = 70;
  // Room right of each panel for the reference lines' labels.
  const right = 110;
  const gap = 160;
  // About 44 px per bar, 480 at least per panel.
  const bars = Math.max(
    ...chart.panels.map((panel) => panel.categories.length * panel.series.length),
  );
  const naturalWidth = Math.max(480, bars * 44);
  const width = chart.width ?? left + right + count * naturalWidth + (count - 1) * gap;
  const height = chart.height ?? 440;
  const panelWidth = (width - left - right - gap * (count - 1)) / count;
  const top = chart.subtitle === undefined ? 90 : 104;
  const seriesNames = [
    ...new Set(chart.panels.flatMap((panel) => panel.series.map((s) => s.name))),
  ];
  const bottom = seriesNames.length > 1 ? 100 : 80;
  const option: echarts.EChartsCoreOption = {
    animation: false,
    backgroundColor: '#ffffff',
    textStyle: { fontFamily: kFont },
    title: [
      {
        text: chart.title,
        subtext: chart.subtitle ?? '',
        left: 10,
        top: 6,
        textStyle: { fontSize: 16, fontFamily: kFont },
        subtextStyle: { fontSize: 12, color: '#555', fontFamily: kFont },
      },
      ...chart.panels.map((panel, index) => ({
        text: panel.title,
        left: left + index * (panelWidth + gap) + panelWidth / 2,
        top: top - 30,
        textAlign: 'center',
        textStyle: { fontSize: 13, fontWeight: 'normal', fontFamily: kFont },
      })),
    ],
    legend:
      seriesNames.length > 1
        ? { data: seriesNames, left: 'center', bottom: 4, textStyle: { fontFamily: kFont } }
        : undefined,
    grid: chart.panels.map((_, index) => ({
      left: left + index * (panelWidth + gap),
      width: panelWidth,
      top,
      bottom,
    })),
    xAxis: chart.panels.map((panel, index) => ({
      type: 'category',
      gridIndex: index,
      data: [...panel.categories],
      axisLabel: { interval: 0, rotate: panel.categories.length > 4 ? 25 : 0, fontSize: 11 },
    })),
    yAxis: chart.panels.map((_, index) => ({
      type: chart.log === true ? 'log' : 'value',
      gridIndex: index,
      name: index === 0 ? chart.unit : '',
      nameTextStyle: { align: 'left', fontFamily: kFont },
      axisLabel: { fontSize: 11 },
      // Headroom for the labels over the tallest bar.
      max: (extent: { max: number }) =>
        chart.log === true
          ? 10 ** Math.ceil(Math.log10(extent.max * 3))
          : niceCeil(extent.max * 1.3),
      splitLine: { lineStyle: { color: '#e6e6e6' } },
    })),
    series: chart.panels.flatMap((panel, index) =>
      panel.series.map((series, seriesIndex) => ({
        type: 'bar',
        name: series.name,
        xAxisIndex: index,
        yAxisIndex: index,
        barMaxWidth: 46,
        // A static picture: no hover states (their CSS is all the SVG's <style> would hold).
        emphasis: { disabled: true },
        ...(series.color === undefined ? {} : { itemStyle: { color: series.color } }),
        data: series.values.map((value, category) => ({
          value: value ?? '-',
          ...(series.colors?.[category] === undefined
            ? {}
            : { itemStyle: { color: series.colors[category] } }),
          label: {
            show: series.labels?.[category] != null && value !== null,
            position: 'top',
            fontSize: 10,
            lineHeight: 12,
            color: '#222',
            formatter: escapeFormatter(series.labels?.[category] ?? ''),
          },
        })),
        // The reference lines go on the panel's first series.
        ...(seriesIndex === 0 && panel.lines !== undefined && panel.lines.length > 0
          ? {
              markLine: {
                symbol: 'none',
                silent: true,
                data: panel.lines.map((line) => ({
                  yAxis: line.value,
                  lineStyle: { color: line.color, type: 'dashed', width: 1.5 },
                  label: {
                    formatter: escapeFormatter(line.label),
                    // Right of the panel; of two lines, the higher one's label moves up, the
                    // other's down, so close lines stay readable.
                    position: 'end',
                    offset: [0, shift(panel.lines!, line)],
                    color: line.color,
                    fontSize: 10,
                  },
                })),
              },
            }
          : {}),
      })),
    ),
  };
  const instance = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    instance.setOption(option);
    // A title for screen readers and for the linter's a11y rule (SVGs need one).
    const title = [chart.title, chart.subtitle].filter(Boolean).join(': ');
    return instance
      .renderToSVGString()
      .replace(/<style\s*>[\s\S]*?<\/style>/g, '')
      .replace(
        /^<svg ([^>]*)>/,
        `<svg role="img" aria-label="${escapeXml(title)}" $1><title>${escapeXml(title)}</title>`,
      );
  } finally {
    instance.dispose();
  }
}

/** The vertical offset of a reference line's label: up for the highest of several, down for the rest. */
function shift(lines: readonly ReferenceLine[], line: ReferenceLine): number {
  if (lines.length < 2) return 0;
  return line.value === Math.max(...lines.map((other) => other.value)) ? -6 : 6;
}

/** A round number at or above `value` (1, 2, 2.5 or 5 times a power of ten). */
function niceCeil(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((factor) => factor * power >= value)!;
  return step * power;
}

function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

/** ECharts reads `{a}`-style templates in label formatters: keep braces literal. */
function escapeFormatter(text: string): string {
  return text.replaceAll('{', '(').replaceAll('}', ')');
}
