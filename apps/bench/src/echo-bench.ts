import { availableParallelism } from 'node:os';
import type { LoadResult } from './loadgen';
import { peakRssBytes, processCpuMicros } from './proc-stat';
import { startNode, startProcess } from './server-process';

/** The plain C epoll echo server (the floor), next to apps/echo's implementations. */
export const kCImplementation = 'c';

/** One load shape of the echo benchmark. */
export interface Scenario {
  readonly name: string;
  readonly connections: number;
  readonly depth: number;
}

/** The three scenarios: 1 KiB ping-pong at 100 and 1000 connections, and pipelined ×16. */
export const kScenarios: readonly Scenario[] = [
  { name: 'ping-pong, 100 conns', connections: 100, depth: 1 },
  { name: 'ping-pong, 1000 conns', connections: 1000, depth: 1 },
  { name: 'pipelined x16, 100 conns', connections: 100, depth: 16 },
];

/** One measured run of one server implementation under one scenario. */
export interface RunResult {
  readonly implementation: string;
  readonly scenario: string;
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly cpuMicrosPerRequest: number;
  readonly p50Micros: number;
  readonly p99Micros: number;
  readonly peakRssBytes: number;
  readonly errors: number;
  /** Reactor counters per request (core only): the server's `stats` line, divided by requests. */
  readonly counters?: Readonly<Record<string, number>>;
}

export interface EchoBenchOptions {
  readonly echoCli: string;
  /** The C echo server (`c-echo.ts`), for the `c` implementation. */
  readonly cEcho?: string;
  readonly loadgen: string;
  readonly client: string;
  readonly payloadSize: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

/**
 * Runs one server implementation under one scenario: the server pinned to
 * CPU 0, the load generator to CPU 1 (unpinned when the machine has one CPU).
 * Server CPU time is sampled from /proc exactly when the load generator opens
 * and closes its measured window.
 */
export async function runOnce(
  implementation: string,
  scenario: Scenario,
  options: EchoBenchOptions,
): Promise<RunResult> {
  const pinned = availableParallelism() >= 2;
  const isC = implementation === kCImplementation;
  if (isC && options.cEcho === undefined) throw new Error('the C echo server was not built');
  const server = isC
    ? startProcess(options.cEcho!, [], pinned ? 0 : null, 'netpoll_c_echo', 'pipe')
    : startNode(
        options.echoCli,
        ['serve', '--listen', 'tcp://127.0.0.1:0', '--impl', implementation, '--stats-signal'],
        pinned ? 0 : null,
      );
  try {
    const address = await server.waitForLine((line) => {
      if (!isC) return /^listening on (\S+)$/.exec(line)?.[1];
      const port = /^(\d+)$/.exec(line)?.[1];
      return port === undefined ? undefined : `tcp://127.0.0.1:${port}`;
    }, 30_000);
    // The C server has no counters (and SIGUSR2 would end it).
    const counters = isC ? { sample: async () => undefined } : collectCounters(server);
    const load = startNode(
      options.loadgen,
      [
        '--connect',
        address,
        '--client',
        options.client,
        '--connections',
        String(scenario.connections),
        '--depth',
        String(scenario.depth),
        '--payload',
        String(options.payloadSize),
        '--warmup',
        String(options.warmupMs),
        '--duration',
        String(options.durationMs),
      ],
      pinned ? 1 : null,
    );
    const events = jsonLines(load);
    await events('start', options.warmupMs + 60_000);
    const cpuStart = processCpuMicros(server.pid);
    const statsStart = counters.sample();
    await events('end', options.durationMs + 60_000);
    const cpuEnd = processCpuMicros(server.pid);
    const statsEnd = counters.sample();
    const result = (await events('result', 60_000)) as unknown as LoadResult;
    await load.stop();
    const rss = peakRssBytes(server.pid);
    const requests = Math.max(result.requests, 1);
    return {
      implementation,
      scenario: scenario.name,
      requests: result.requests,
      requestsPerSecond: (result.requests * 1000) / result.elapsedMs,
      cpuMicrosPerRequest: (cpuEnd - cpuStart) / requests,
      p50Micros: result.p50Micros,
      p99Micros: result.p99Micros,
      peakRssBytes: rss,
      errors: result.errors,
      counters: await perRequest(statsStart, statsEnd, requests),
    };
  } finally {
    await server.stop('SIGTERM');
  }
}

function jsonLines(child: ReturnType<typeof startNode>) {
  return (event: string, timeoutMs: number): Promise<Record<string, unknown>> =>
    child.waitForLine((line) => {
      if (!line.startsWith('{')) return undefined;
      const parsed = JSON.parse(line) as Record<string, unknown>;
      return parsed.event === event ? parsed : undefined;
    }, timeoutMs);
}

/**
 * Servers started with `--stats-signal` print a `{"event":"stats",...}` line
 * with their reactor counters on SIGUSR2; servers without counters print nothing.
 */
function collectCounters(server: ReturnType<typeof startNode>) {
  return {
    sample(): Promise<Record<string, unknown> | undefined> {
      const line = server
        .waitForLine((text) => {
          if (!text.startsWith('{')) return undefined;
          const parsed = JSON.parse(text) as Record<string, unknown>;
          return parsed.event === 'stats' ? parsed : undefined;
        }, 2_000)
        .catch(() => undefined);
      server.process.kill('SIGUSR2');
      return line;
    },
  };
}

async function perRequest(
  start: Promise<Record<string, unknown> | undefined>,
  end: Promise<Record<string, unknown> | undefined>,
  requests: number,
): Promise<Record<string, number> | undefined> {
  const [before, after] = await Promise.all([start, end]);
  if (before === undefined || after === undefined) return undefined;
  const counters: Record<string, number> = {};
  for (const [key, value] of Object.entries(after)) {
    if (typeof value === 'number' && typeof before[key] === 'number') {
      counters[key] = (value - (before[key] as number)) / requests;
    }
  }
  return counters;
}
