import type { RunResult } from './echo-bench';
import { median } from './histogram';

/** Medians over repeats of one implementation under one scenario. */
export interface Summary {
  readonly implementation: string;
  readonly scenario: string;
  readonly runs: number;
  readonly requestsPerSecond: number;
  readonly cpuMicrosPerRequest: number;
  readonly p50Micros: number;
  readonly p99Micros: number;
  readonly peakRssBytes: number;
  readonly errors: number;
  readonly counters?: Readonly<Record<string, number>>;
}

/** Groups runs by scenario and implementation and takes the median of every figure. */
export function summarize(results: readonly RunResult[]): Summary[] {
  const groups = new Map<string, RunResult[]>();
  for (const result of results) {
    const key = `${result.scenario}\u0000${result.implementation}`;
    groups.set(key, [...(groups.get(key) ?? []), result]);
  }
  return [...groups.values()].map((runs) => {
    const first = runs[0]!;
    const counterNames = Object.keys(first.counters ?? {});
    return {
      implementation: first.implementation,
      scenario: first.scenario,
      runs: runs.length,
      requestsPerSecond: median(runs.map((run) => run.requestsPerSecond)),
      cpuMicrosPerRequest: median(runs.map((run) => run.cpuMicrosPerRequest)),
      p50Micros: median(runs.map((run) => run.p50Micros)),
      p99Micros: median(runs.map((run) => run.p99Micros)),
      peakRssBytes: median(runs.map((run) => run.peakRssBytes)),
      errors: runs.reduce((sum, run) => sum + run.errors, 0),
      counters:
        counterNames.length === 0
          ? undefined
          : Object.fromEntries(
              counterNames.map((name) => [
                name,
                median(runs.map((run) => run.counters?.[name] ?? 0)),
              ]),
            ),
    };
  });
}

/**
 * Renders one table per scenario: medians, and each figure as a ratio to the
 * `baseline` implementation measured in the same run.
 */
export function renderReport(summaries: readonly Summary[], baseline: string): string {
  const lines: string[] = [];
  const scenarios = [...new Set(summaries.map((summary) => summary.scenario))];
  for (const scenario of scenarios) {
    const rows = summaries.filter((summary) => summary.scenario === scenario);
    const base = rows.find((row) => row.implementation === baseline);
    lines.push(`\n${scenario} (medians of ${rows[0]!.runs} runs; ratios against ${baseline})`);
    lines.push(
      pad([
        'server',
        'CPU µs/req',
        'ratio',
        'req/s',
        'ratio',
        'p99 µs',
        'ratio',
        'peak RSS MB',
        'ratio',
        'errors',
      ]),
    );
    for (const row of rows) {
      const ratio = (value: number, of: number | undefined) =>
        of === undefined ? '-' : `${(value / of).toFixed(2)}x`;
      lines.push(
        pad([
          row.implementation,
          row.cpuMicrosPerRequest.toFixed(2),
          ratio(row.cpuMicrosPerRequest, base?.cpuMicrosPerRequest),
          Math.round(row.requestsPerSecond).toString(),
          ratio(row.requestsPerSecond, base?.requestsPerSecond),
          row.p99Micros.toFixed(0),
          ratio(row.p99Micros, base?.p99Micros),
          (row.peakRssBytes / 2 ** 20).toFixed(1),
          ratio(row.peakRssBytes, base?.peakRssBytes),
          String(row.errors),
        ]),
      );
    }
    for (const row of rows) {
      if (row.counters === undefined || Object.keys(row.counters).length === 0) continue;
      const counters = Object.entries(row.counters)
        .map(([name, value]) => `${name} ${value.toFixed(3)}`)
        .join(', ');
      lines.push(`  ${row.implementation} per request: ${counters}`);
    }
  }
  return lines.join('\n');
}

function pad(cells: readonly string[]): string {
  const widths = [12, 11, 7, 9, 7, 8, 7, 12, 7, 6];
  return cells.map((cell, index) => cell.padEnd(widths[index] ?? 8)).join(' ');
}
