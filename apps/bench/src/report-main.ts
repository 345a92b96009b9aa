/**
 * `main.js report` (redraws the HTML report and the SVG charts from a results file) and
 * `main.js readme` (rewrites the READMEs' "where it stands" sections from one), neither running
 * anything; and `writeReport`, which `main.js all` calls after its runs.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { wantsHelp } from '@netpoll/app-echo';
import { renderCharts } from './report/charts';
import { renderHtml } from './report/html';
import { currentSection, renderWhereItStands, replaceSection } from './report/readme';
import { type BenchResults, readResults } from './results';

/** apps/bench. */
export const kPackageRoot = join(__dirname, '..');
export const kRepositoryRoot = join(kPackageRoot, '..', '..');
/** Where `main.js all` writes by default: the committed latest picture. */
export const kLatestDir = join(kPackageRoot, 'results', 'latest');
export const kResultsName = 'results.json';
export const kReportName = 'report.html';

/** The READMEs with a generated section. */
export const kReadmes = [join(kRepositoryRoot, 'README.md'), join(kPackageRoot, 'README.md')];

const posixPath = (path: string): string => path.split(sep).join('/');

/** Writes `report.html` and every chart's SVG into `dir`; returns the report's path. */
export function writeReport(results: BenchResults, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const charts = renderCharts(results);
  for (const chart of charts) writeFileSync(join(dir, chart.file), chart.svg);
  const path = join(dir, kReportName);
  writeFileSync(path, renderHtml(results, charts));
  return path;
}

/** What `readme` generates for `readmePath` from the results file at `resultsPath`. */
export function sectionFor(readmePath: string, resultsPath: string): string {
  return renderWhereItStands(readResults(resultsPath), {
    resultsDir: posixPath(relative(dirname(readmePath), dirname(resultsPath))) || '.',
    resultsFile: posixPath(relative(kRepositoryRoot, resultsPath)),
  });
}

/** Rewrites the sections of `readmes`; returns those that changed. */
export function updateReadmes(
  resultsPath: string,
  readmes: readonly string[] = kReadmes,
): string[] {
  const changed: string[] = [];
  for (const readme of readmes) {
    const text = readFileSync(readme, 'utf8');
    const next = replaceSection(text, sectionFor(readme, resultsPath));
    if (next !== text) {
      writeFileSync(readme, next);
      changed.push(readme);
    }
  }
  return changed;
}

export const kReportUsage = `usage: main.js report [--results FILE] [--out DIR]
       main.js readme [--results FILE] [--check]

report: renders report.html and the SVG charts from a results file of main.js all
        (default ${posixPath(relative(process.cwd(), join(kLatestDir, kResultsName)))}) into --out (default: the results file's
        directory). Runs nothing.
readme: rewrites the "where it stands" sections of README.md and apps/bench/README.md
        (between <!-- where-it-stands:start --> and <!-- where-it-stands:end -->) from the
        results file; --check changes nothing and exits 1 if a section differs.`;

function parse(
  argv: readonly string[],
  extra: Record<string, { type: 'string' | 'boolean' }>,
): Record<string, string | boolean | undefined> {
  return parseArgs({
    args: [...argv],
    strict: true,
    options: { results: { type: 'string' }, ...extra },
  }).values;
}

/** `main.js report ARGS`. */
export function reportMain(argv: readonly string[]): void {
  if (wantsHelp(argv)) {
    process.stdout.write(`${kReportUsage}\n`);
    return;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parse(argv, { out: { type: 'string' } });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${kReportUsage}\n`);
    process.exitCode = 2;
    return;
  }
  const resultsPath = resolve((values.results as string) ?? join(kLatestDir, kResultsName));
  const results = readResults(resultsPath);
  const out = resolve((values.out as string) ?? dirname(resultsPath));
  const path = writeReport(results, out);
  process.stdout.write(`report written to ${posixPath(relative(process.cwd(), path))}\n`);
}

/** `main.js readme ARGS`. */
export function readmeMain(argv: readonly string[]): void {
  if (wantsHelp(argv)) {
    process.stdout.write(`${kReportUsage}\n`);
    return;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parse(argv, { check: { type: 'boolean' } });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${kReportUsage}\n`);
    process.exitCode = 2;
    return;
  }
  const resultsPath = resolve((values.results as string) ?? join(kLatestDir, kResultsName));
  if (values.check === true) {
    for (const readme of kReadmes) {
      const section = currentSection(readFileSync(readme, 'utf8'));
      if (section !== sectionFor(readme, resultsPath)) {
        process.stderr.write(
          `${readme}: the "where it stands" section is not what ${resultsPath} generates\n`,
        );
        process.exitCode = 1;
      }
    }
    return;
  }
  const changed = updateReadmes(resultsPath);
  process.stdout.write(
    changed.length === 0
      ? 'the READMEs were up to date\n'
      : `rewrote the "where it stands" section of ${changed.map((path) => posixPath(relative(process.cwd(), path))).join(', ')}\n`,
  );
}
