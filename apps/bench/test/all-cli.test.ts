import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterTest } from '@netpoll/jest-config/cleanup';
import { createProgress } from '../src/progress';
import { readResults } from '../src/results';
import { runCli } from './helpers/run-cli';

// `main.js all` end to end on a tiny matrix, into a temporary directory (never the committed
// results/latest, so the READMEs are left alone); then `main.js report` redraws from its file.
const kMain = join(__dirname, '..', 'dist', 'main.js');

function temporaryDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'bench-all-'));
  afterTest(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

describe('main.js all', () => {
  it('runs both matrices, prints the side-by-side and writes the results, the report and the charts', async () => {
    const out = temporaryDirectory();
    const run = await runCli(kMain, [
      ...['all', '--stacks', 'netpoll-mux,net', '--callers', '8', '--impls', 'c,core,net'],
      ...['--scenarios', '0', '--repeats', '1', '--duration', '300', '--warmup', '0'],
      ...['--out', out],
    ]);
    expect(run.code).toBe(0);
    // Not a terminal: plain progress lines over the whole matrix, no bar.
    expect(run.stderr).toContain('2 RPC runs and 3 echo runs');
    expect(run.stderr).toMatch(/^\[1\/5\] rpc /m);
    expect(run.stderr).toMatch(/^\[5\/5\] echo /m);
    expect(run.stderr).not.toContain('\u001b[');
    expect(run.stdout).toContain('RPC, 1024-byte unary echo, 8 callers');
    expect(run.stdout).toMatch(/^C floor +\d/m);
    expect(run.stdout).toMatch(/report: .*report\.html\n$/);
    const results = readResults(join(out, 'results.json'));
    expect(results.command).toContain('all --stacks netpoll-mux,net');
    expect(results.machine.cores).toBeGreaterThan(0);
    expect(results.rpc!.runs).toHaveLength(2);
    expect(results.echo!.runs.map((result) => result.implementation)).toEqual(['c', 'core', 'net']);
    for (const file of ['report.html', 'rpc-cpu.svg', 'echo-cpu.svg', 'echo-rss.svg']) {
      expect(existsSync(join(out, file))).toBe(true);
    }
    // Redrawn from the file alone.
    rmSync(join(out, 'report.html'));
    const again = await runCli(kMain, ['report', '--results', join(out, 'results.json')]);
    expect(again.code).toBe(0);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<svg');
  }, 120_000);

  it.each([
    [['--only', 'both'], '--only must be rpc or echo (received both)'],
    [['--impls', 'c,uv'], '--impls must be a comma-separated list'],
    [['--callers', '0'], '--callers must be a comma-separated list of distinct integers'],
  ])('exits 2 on %j naming the flag', async (flags, message) => {
    const run = await runCli(kMain, ['all', ...flags]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).toContain('usage: main.js all');
  });

  it('report exits 1 naming a file that is not a results file', async () => {
    const out = temporaryDirectory();
    const run = await runCli(kMain, [
      'report',
      '--results',
      join(__dirname, '..', 'package.json'),
      '--out',
      out,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('not a results file of main.js all');
  });
});

describe('createProgress', () => {
  it('prints plain numbered lines when not on a terminal', () => {
    let written = '';
    const stream = { write: (text: string) => (written += text) } as unknown as NodeJS.WriteStream;
    const progress = createProgress(2, stream, false);
    progress.starting('first');
    progress.done('first done');
    progress.done('second done');
    progress.stop();
    expect(written).toBe('[1/2] first done\n[2/2] second done\n');
  });
});
