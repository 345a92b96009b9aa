/**
 * The soak's table: every fault injected (where, when, calls it failed, when traffic had moved,
 * when it was back), the calls (made, failed by code, lost), and the resources of each process
 * before, after, and over time.
 */
import { kMoveBoundMs, kRecoverBoundMs, kResourceBounds } from './bounds';
import { mib } from './scenario';
import type { SoakResult } from './soak';

function pad(cells: readonly string[], widths: readonly number[]): string {
  return `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
}

function table(header: readonly string[], rows: readonly string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  return [
    pad(header, widths),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map((row) => pad(row, widths)),
  ];
}

export function soakReport(result: SoakResult): string {
  const { analysis, windows, startedAt } = result;
  const lines: string[] = [];
  const failed = Object.values(analysis.failedByCode).reduce((a, b) => a + b, 0);
  lines.push(
    `soak: ${windows.length} faults injected over ${((clock(result) - startedAt) / 1000).toFixed(0)} s; ` +
      `bounds: moved ≤ ${kMoveBoundMs} ms (silent hosts), back ≤ ${kRecoverBoundMs} ms`,
  );
  lines.push(
    ...table(
      ['#', 'fault', 'host', 'at s', 'failed calls', 'moved ms', 'recovered ms'],
      windows.map((window, i) => {
        const r = analysis.perFault.get(window)!;
        return [
          String(i + 1),
          window.name,
          window.host,
          ((window.injectAt - startedAt) / 1000).toFixed(1),
          String(r.failed),
          window.moves ? r.moveMs.toFixed(0) : '(stays)',
          r.recoverMs === null ? 'never' : r.recoverMs.toFixed(0),
        ];
      }),
    ),
  );
  lines.push('');
  lines.push(
    `calls: ${analysis.calls} made, ${analysis.calls - failed - analysis.lost} succeeded, ` +
      `${failed} failed (${failed - analysis.failedNonIdempotent} of them idempotent; ${analysis.retriedAway} retried from the faulted host to another and failed there), lost ${analysis.lost}; ` +
      `latest settlement past a deadline ${analysis.maxOvershootMs.toFixed(0)} ms; ` +
      `client event-loop delay p99 ${result.loopDelay.p99.toFixed(0)} ms, max ${result.loopDelay.max.toFixed(0)} ms`,
  );
  lines.push(
    ...table(
      ['failed by code', 'calls'],
      Object.entries(analysis.failedByCode).map(([code, count]) => [code, String(count)]),
    ),
  );
  lines.push('');
  const names = Object.keys(result.before).sort();
  lines.push(
    `resources (bounds after − before: fd +${kResourceBounds.fdDelta}, RSS +${mib(kResourceBounds.rssDeltaBytes)}; restarted servers are new processes):`,
  );
  lines.push(
    ...table(
      ['process', 'fd before', 'fd after', 'fd min–max', 'RSS before', 'RSS after', 'RSS min–max'],
      names.map((name) => {
        const seen = result.samples
          .map((s) => s.resources[name])
          .filter((s) => s !== undefined && s.fd >= 0);
        const fds = seen.map((s) => s!.fd);
        const rss = seen.map((s) => s!.rss);
        const a = result.before[name]!;
        const b = result.after[name];
        return [
          name,
          String(a.fd),
          b === undefined ? '?' : String(b.fd),
          `${Math.min(...fds)}–${Math.max(...fds)}`,
          mib(a.rss),
          b === undefined ? '?' : mib(b.rss),
          `${mib(Math.min(...rss))}–${mib(Math.max(...rss))}`,
        ];
      }),
    ),
  );
  lines.push('samples over time (fd / RSS MiB):');
  lines.push(
    ...table(
      ['t s', ...names],
      result.samples.map((sample) => [
        ((sample.at - startedAt) / 1000).toFixed(0),
        ...names.map((name) => {
          const s = sample.resources[name];
          return s === undefined ? '—' : `${s.fd} / ${(s.rss / 1024 / 1024).toFixed(0)}`;
        }),
      ]),
    ),
  );
  lines.push(
    result.problems.length === 0 ? 'soak: nothing lost, nothing broken' : 'soak problems:',
  );
  lines.push(...result.problems.map((problem) => `  ${problem}`));
  return lines.join('\n');
}

function clock(result: SoakResult): number {
  return result.samples[result.samples.length - 1]?.at ?? result.startedAt;
}
