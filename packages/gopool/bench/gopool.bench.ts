/**
 * gopool benchmark: WorkerPool against piscina and tinypool in the same run, and go()
 * against a bare Promise. Every scenario is measured REPEATS times, the pools interleaved
 * in each round, and the median is reported with the ratio against each baseline.
 *
 * Run: pnpm --filter @netpoll/gopool bench   (builds dist/ and dist-bench/ first)
 */
import { join } from 'node:path';
import { Pool, WorkerPool } from '@netpoll/gopool';
import { Piscina } from 'piscina';

const REPEATS = Number(process.env.REPEATS ?? 5);
const WINDOW_MS = Number(process.env.WINDOW_MS ?? 600);
const THREADS = 2;
const filename = join(__dirname, '..', '..', 'bench', 'tasks.js');

interface Runner {
  readonly label: string;
  run(value: unknown, name: string): Promise<unknown>;
  close(): Promise<void>;
}

interface Measure {
  readonly perSecond: number;
  readonly cpuMicros: number; // Process CPU (all threads) per task.
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Keeps `inFlight` tasks outstanding for WINDOW_MS and counts completions. */
async function throughput(
  runner: Runner,
  inFlight: number,
  value: unknown,
  name: string,
): Promise<Measure> {
  let done = 0;
  let stop = false;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await new Promise<void>((resolve, reject) => {
    let outstanding = 0;
    const next = (): void => {
      if (stop) {
        if (outstanding === 0) resolve();
        return;
      }
      outstanding++;
      runner.run(value, name).then(() => {
        outstanding--;
        done++;
        next();
      }, reject);
    };
    for (let i = 0; i < inFlight; i++) next();
    setTimeout(() => {
      stop = true;
    }, WINDOW_MS);
  });
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { perSecond: done / seconds, cpuMicros: (cpu.user + cpu.system) / done };
}

/** Sequential round trips: one task in flight at a time. */
async function roundTrip(runner: Runner, count: number): Promise<Measure> {
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < count; i++) await runner.run({ a: i, b: 1 }, 'add');
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { perSecond: count / seconds, cpuMicros: (cpu.user + cpu.system) / count };
}

async function makeRunners(): Promise<Runner[]> {
  const ours = new WorkerPool({ filename, minThreads: THREADS, maxThreads: THREADS });
  const piscina = new Piscina({ filename, minThreads: THREADS, maxThreads: THREADS });
  // tinypool is ESM-only; a dynamic import keeps this file CommonJS.
  const { Tinypool } = await import('tinypool');
  const tinypool = new Tinypool({ filename, minThreads: THREADS, maxThreads: THREADS });
  return [
    {
      label: '@netpoll/gopool',
      run: (v, name) => ours.run(v, { name }),
      close: () => ours.close(),
    },
    {
      label: 'piscina 5.3.2',
      run: (v, name) => piscina.run(v, { name }),
      close: () => piscina.close(),
    },
    {
      label: 'tinypool 2.2.0',
      run: (v, name) => tinypool.run(v, { name }),
      close: () => tinypool.destroy(),
    },
  ];
}

interface GoCosts {
  readonly go: number;
  readonly direct: number;
  readonly deferred: number;
}

/**
 * Event-loop cost per task, in bursts of BURST submissions (a burst of a million would
 * measure the garbage collector holding them, not the submission): go() on a Pool against
 * calling the async function directly, and against deferring it to a microtask as go() does.
 */
async function goOverhead(bursts: number): Promise<GoCosts> {
  const BURST = 1000;
  const pool = new Pool('bench');
  let finished = 0;
  let release: () => void = () => undefined;
  const task = async (): Promise<void> => {
    if (++finished === BURST) release();
  };
  const time = async (submit: () => void): Promise<number> => {
    const start = performance.now();
    for (let b = 0; b < bursts; b++) {
      finished = 0;
      const all = new Promise<void>((resolve) => {
        release = resolve;
      });
      for (let i = 0; i < BURST; i++) submit();
      await all;
    }
    return ((performance.now() - start) * 1e6) / (bursts * BURST); // ns per task
  };
  const noop = (): void => undefined;
  const go = await time(() => pool.go(task));
  const direct = await time(() => {
    task().then(noop, noop);
  });
  const deferred = await time(() => {
    Promise.resolve().then(task).then(noop, noop);
  });
  return { go, direct, deferred };
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

async function main(): Promise<void> {
  const runners = await makeRunners();
  const payload = Buffer.alloc(1024, 7);
  for (const runner of runners) {
    // Warm-up: threads started, code optimised.
    await throughput(runner, 64, { a: 1, b: 2 }, 'add');
    await roundTrip(runner, 200);
  }
  const scenarios = [
    {
      key: 'tiny tasks, 64 in flight (tasks/s)',
      run: (r: Runner) => throughput(r, 64, { a: 1, b: 2 }, 'add'),
    },
    {
      key: 'tiny tasks, 1024 in flight (tasks/s)',
      run: (r: Runner) => throughput(r, 1024, { a: 1, b: 2 }, 'add'),
    },
    {
      key: '1 KiB payload both ways, 64 in flight (tasks/s)',
      run: (r: Runner) => throughput(r, 64, payload, 'echo'),
    },
    { key: 'single-task round trip (tasks/s)', run: (r: Runner) => roundTrip(r, 2000) },
  ];
  const results = new Map<string, Map<string, Measure[]>>();
  for (let round = 0; round < REPEATS; round++) {
    for (const scenario of scenarios) {
      for (const runner of runners) {
        const measure = await scenario.run(runner);
        const byRunner = results.get(scenario.key) ?? new Map<string, Measure[]>();
        results.set(scenario.key, byRunner);
        byRunner.set(runner.label, [...(byRunner.get(runner.label) ?? []), measure]);
      }
    }
  }
  const goRuns: GoCosts[] = [];
  for (let round = 0; round < REPEATS; round++) goRuns.push(await goOverhead(500));
  await Promise.all(runners.map((runner) => runner.close()));

  console.log(
    `Node ${process.version}, ${THREADS} threads, median of ${REPEATS} rounds (${WINDOW_MS} ms windows)\n`,
  );
  const [ours, piscina, tinypool] = runners.map((r) => r.label) as [string, string, string];
  console.log(`| scenario | ${ours} | ${piscina} | ${tinypool} | vs piscina | vs tinypool |`);
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const [key, byRunner] of results) {
    const m = (label: string): number => median(byRunner.get(label)!.map((x) => x.perSecond));
    const cpu = (label: string): number => median(byRunner.get(label)!.map((x) => x.cpuMicros));
    const cell = (label: string): string => `${fmt(m(label))} (${fmt(cpu(label), 1)} µs CPU)`;
    const rtt = key.startsWith('single')
      ? (label: string): string => ` = ${fmt(1e6 / m(label), 1)} µs`
      : () => '';
    console.log(
      `| ${key} | ${cell(ours)}${rtt(ours)} | ${cell(piscina)}${rtt(piscina)} | ${cell(tinypool)}${rtt(tinypool)} | ${fmt(m(ours) / m(piscina), 1)}× | ${fmt(m(ours) / m(tinypool), 1)}× |`,
    );
  }
  const go = median(goRuns.map((r) => r.go));
  const direct = median(goRuns.map((r) => r.direct));
  const deferred = median(goRuns.map((r) => r.deferred));
  console.log(
    '\n| event loop, bursts of 1000 | ns per task | go() against it |\n| --- | --- | --- |',
  );
  console.log(`| go() on a Pool (cap 2147483647) | ${fmt(go, 1)} | 1× |`);
  console.log(
    `| bare Promise: call the async function, then() | ${fmt(direct, 1)} | ${fmt(go / direct, 2)}× |`,
  );
  console.log(
    `| bare Promise deferred like go(): Promise.resolve().then(task) | ${fmt(deferred, 1)} | ${fmt(go / deferred, 2)}× |`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
