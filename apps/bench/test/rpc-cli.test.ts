import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterTest } from '@netpoll/jest-config/cleanup';
import { isNativeLoad } from '../src/rpc-commands';
import { runCli } from './helpers/run-cli';

// Short runs of the built `main.js rpc` with the stacks that need no @netpoll/rpc: the
// processes start, answer, report and are all gone at the end or on SIGINT. No figure is
// asserted beyond "calls were made and checked".
const kMain = join(__dirname, '..', 'dist', 'main.js');

function temporaryDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'rpc-bench-'));
  afterTest(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

/** Pids of the live processes whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid && fields[0] !== 'Z') children.push(Number(entry));
    } catch {
      // It exited while we looked.
    }
  }
  return children;
}

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// Windows of 1.5 s: the server's window opens when main.js hears the client's open, so a stall of
// main.js or the server as long as a window would leave it without calls.
describe('main.js rpc, short runs', () => {
  it('runs net, net-pool and grpc, checks every reply, prints the table and writes the JSON', async () => {
    const json = join(temporaryDirectory(), 'results.json');
    const args = ['rpc', '--stacks', 'net,net-pool,grpc', '--callers', '8', '--duration', '1500'];
    const run = await runCli(kMain, [...args, '--repeats', '1', '--warmup', '0', '--json', json]);
    expect(run.stderr).toContain('[1/1] net, 8 callers');
    expect(run.stderr).toContain('[1/1] grpc, 8 callers');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('8 callers (medians of 1 runs)');
    expect(run.stdout).toMatch(
      /^stack\s+server µs\/call\s+of it kernel\s+client µs\/call\s+calls\/s\s+p50 µs\s+p99 µs\s+server RSS MB\s+client RSS MB\s+srv heap B\/call\s+cli heap B\/call\s+srv AB B\/call\s+cli AB B\/call\s+errors$/m,
    );
    // Heap bytes per call on both sides; ArrayBuffer bytes per call, or '-' when the samples
    // clear of GC saw too few calls (a short run of grpc at 8 callers may).
    const row = String.raw`\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\s+\d+\s+\d+\s+\d+\.\d\s+\d+\.\d\s+\d+\s+\d+\s+(\d+\.\d|-)\s+(\d+\.\d|-)\s+0$`;
    expect(run.stdout).toMatch(new RegExp(`^net${row}`, 'm'));
    expect(run.stdout).toMatch(new RegExp(`^grpc${row}`, 'm'));
    expect(run.stdout).toContain('load average');
    const saved = JSON.parse(readFileSync(json, 'utf8'));
    // The command as typed from the directory it ran in (runCli keeps this one).
    expect(saved.command).toBe(
      `node ${relative(process.cwd(), kMain)} ${[...args, '--repeats', '1', '--warmup', '0', '--json', json].join(' ')}`,
    );
    expect(saved.machine).toEqual(
      expect.objectContaining({
        cores: expect.any(Number),
        cpuModel: expect.any(String),
        node: process.version,
        kernel: expect.any(String),
        loadAverageAtStart: expect.any(Array),
        loadAverageAtEnd: expect.any(Array),
      }),
    );
    expect(saved.runs.map((result: { stack: string }) => result.stack)).toEqual([
      'net',
      'net-pool',
      'grpc',
    ]);
    for (const result of saved.runs) {
      expect(result.callers).toBe(8);
      expect(result.calls).toBeGreaterThan(0);
      expect(result.errors).toBe(0);
      expect(result.serverCpuMicrosPerCall).toBeGreaterThan(0);
      expect(result.serverSystemMicrosPerCall).toBeGreaterThan(0);
      expect(result.serverSystemMicrosPerCall).toBeLessThanOrEqual(result.serverCpuMicrosPerCall);
      expect(result.clientCpuMicrosPerCall).toBeGreaterThan(0);
      expect(result.serverPeakRssBytes).toBeGreaterThan(0);
      expect(result.clientPeakRssBytes).toBeGreaterThan(0);
      for (const side of [result.serverAlloc, result.clientAlloc]) {
        expect(side.calls).toBeGreaterThan(0);
        expect(side.heapBytesPerCall).toBeGreaterThan(0);
        expect(side.arrayBufferCalls).toBeLessThanOrEqual(side.calls);
      }
    }
    expect(saved.summaries).toHaveLength(3);
    expect(saved.ratios).toEqual([]);
    expect(saved.targets).toEqual([]);
  });

  it('runs the netpoll stacks, the native load generator included (also against net), and their ratios against net', async () => {
    const json = join(temporaryDirectory(), 'results.json');
    const run = await runCli(kMain, [
      ...[
        'rpc',
        '--stacks',
        'netpoll-mux,netpoll-pool,netpoll-native-load,net-native-load,net-pool,net',
      ],
      ...['--callers', '8', '--duration', '1500', '--repeats', '1', '--warmup', '0'],
      ...['--json', json],
    ]);
    expect(run.code).toBe(0);
    const saved = JSON.parse(readFileSync(json, 'utf8'));
    expect(saved.runs.map((result: { stack: string }) => result.stack)).toEqual([
      'netpoll-mux',
      'netpoll-pool',
      'netpoll-native-load',
      'net-native-load',
      'net-pool',
      'net',
    ]);
    for (const result of saved.runs) {
      expect(result.calls).toBeGreaterThan(0);
      expect(result.errors).toBe(0);
      expect(result.serverAlloc.heapBytesPerCall).toBeGreaterThan(0);
      // The native load generator is no Node process.
      if (isNativeLoad(result.stack)) expect(result.clientAlloc).toBeNull();
      else expect(result.clientAlloc.heapBytesPerCall).toBeGreaterThan(0);
    }
    expect(
      saved.ratios.map(
        (ratio: { stack: string; baseline: string }) => `${ratio.stack}/${ratio.baseline}`,
      ),
    ).toEqual([
      'netpoll-mux/net',
      'netpoll-mux/net-pool',
      'netpoll-pool/net',
      'netpoll-pool/net-pool',
      'netpoll-native-load/net',
      'netpoll-native-load/net-pool',
      'netpoll-native-load/net-native-load',
    ]);
    expect(run.stdout).toMatch(/^netpoll-native-load\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+/m);
    expect(run.stdout).toMatch(/^net-native-load\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+/m);
    expect(run.stdout).toContain('ratios (stack / baseline');
    // The targets are for 100 callers: none at 8.
    expect(saved.targets).toEqual([]);
  });

  it('runs the C echo server under the native load, with no allocation figures, against net under the same load', async () => {
    const json = join(temporaryDirectory(), 'results.json');
    const run = await runCli(kMain, [
      ...['rpc', '--stacks', 'c-native-load,net-native-load'],
      ...['--callers', '8', '--duration', '1500', '--repeats', '1', '--warmup', '0'],
      ...['--json', json],
    ]);
    expect(run.code).toBe(0);
    const saved = JSON.parse(readFileSync(json, 'utf8'));
    const [c, net] = saved.runs;
    expect([c.stack, net.stack]).toEqual(['c-native-load', 'net-native-load']);
    for (const result of saved.runs) {
      expect(result.calls).toBeGreaterThan(0);
      expect(result.errors).toBe(0);
      expect(result.serverCpuMicrosPerCall).toBeGreaterThan(0);
      expect(result.serverSystemMicrosPerCall).toBeGreaterThan(0);
      expect(result.serverSystemMicrosPerCall).toBeLessThanOrEqual(result.serverCpuMicrosPerCall);
      expect(result.clientAlloc).toBeNull();
    }
    // The C server's figures are its own process's: no JS heap, a few MB resident.
    expect(c.serverAlloc).toBeNull();
    expect(c.serverPeakRssBytes).toBeLessThan(32 * 2 ** 20);
    expect(net.serverAlloc.heapBytesPerCall).toBeGreaterThan(0);
    expect(
      saved.ratios.map(
        (ratio: { stack: string; baseline: string }) => `${ratio.stack}/${ratio.baseline}`,
      ),
    ).toEqual(['c-native-load/net-native-load']);
    expect(run.stdout).toMatch(/^c-native-load\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+/m);
  });

  it('kills and reaps its server and client on SIGINT and exits 130', async () => {
    const json = join(temporaryDirectory(), 'never.json');
    const bench = spawn(
      process.execPath,
      [
        ...[kMain, 'rpc', '--stacks', 'net', '--callers', '4', '--duration', '600000'],
        ...['--repeats', '1', '--json', json],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } },
    );
    afterTest(() => bench.kill('SIGKILL'));
    let stderr = '';
    bench.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    bench.stdout.resume();
    let children: number[] = [];
    await until(() => {
      children = childrenOf(bench.pid!);
      return children.length === 2;
    }, 'the server and the client');
    const closed = once(bench, 'close');
    bench.kill('SIGINT');
    const [code] = (await closed) as [number | null];
    expect(code).toBe(130);
    expect(stderr).toContain('SIGINT: stopping 2 child process(es)');
    await until(() => children.every((pid) => !existsSync(`/proc/${pid}`)), 'the children to go');
    expect(existsSync(json)).toBe(false);
  });
});
