/**
 * The command lines of `main.js` (the benchmark) and `loadgen.js` (its load generator): usage
 * texts, and parsers that check every flag before anything starts. A parser throws an error that
 * names the flag, what it accepts and what it received; the commands print it with their usage
 * and exit 2.
 */
import { parseArgs } from 'node:util';
import {
  kDefaultMaxFrameSize,
  kEchoImplementations,
  parseAddress,
  parseChoiceFlag,
  parseIntegerFlag,
  parseListFlag,
} from '@netpoll/app-echo';
import { kCImplementation, kScenarios, type Scenario } from './echo-bench';

/** The servers `--impls` accepts: apps/echo's, and the plain C epoll server (the floor). */
export const kBenchImplementations = [...kEchoImplementations, kCImplementation] as const;

/** Load clients: @netpoll/core's Dialer (default) or node:net. */
export const kClients = ['core', 'net'] as const;
export type ClientName = (typeof kClients)[number];

/** Accepted ranges of the numeric flags (inclusive). */
export const kRanges = {
  /** Repeats of every scenario × implementation. */
  repeats: [1, 1000],
  /** Measured window per run, ms (at least 0.1 s, at most 1 h). */
  duration: [100, 3_600_000],
  /** Unmeasured warm-up per run, ms. */
  warmup: [0, 600_000],
  /** Payload bytes per frame: at most the echo server's default --max-frame-size. */
  payload: [0, kDefaultMaxFrameSize],
  /** Load connections. */
  connections: [1, 10_000],
  /** Frames in flight per connection. */
  depth: [1, 1024],
} as const satisfies Record<string, readonly [number, number]>;

const kScenarioIndexes = kScenarios.map((_, index) => String(index));

const range = (name: keyof typeof kRanges): string => `${kRanges[name][0]} to ${kRanges[name][1]}`;

export const kBenchUsage = `usage: main.js [--impls ${kBenchImplementations.join(',')}] [--scenarios ${kScenarioIndexes.join(',')}] [--repeats N]
               [--duration MS] [--warmup MS] [--payload BYTES] [--client ${kClients.join('|')}]
               [--json FILE]
       main.js --help
       main.js rpc ...   (the RPC benchmark: main.js rpc --help)
       main.js all ...   (RPC and echo, report and charts: main.js all --help)
       main.js report | readme ...   (redraw from a results file: main.js report --help)

Runs the length-header echo benchmark: each server implementation from
apps/echo pinned to CPU 0, this package's load generator pinned to CPU 1,
implementations interleaved within every repeat, medians reported with
ratios against node:net ("net") from the same run. A bad flag exits 2 with
a message naming it.

  --impls LIST       servers to run, from ${kBenchImplementations.join(', ')}
                     (default ${kEchoImplementations.join(',')}; c: the plain C epoll server,
                     @netpoll/core's bench floor, built with c++ on first use)
  --scenarios LIST   scenario numbers (default all):
${kScenarios.map((scenario, index) => `                       ${index}: ${scenario.name}`).join('\n')}
  --repeats N        runs of every scenario and server, ${range('repeats')} (default 5)
  --duration MS      measured window of each run, ${range('duration')} (default 5000)
  --warmup MS        unmeasured load before each window, ${range('warmup')} (default 1000)
  --payload BYTES    payload of each frame, ${range('payload')} (default 1024)
  --client NAME      load client: core (@netpoll/core's Dialer, default) or net
  --json FILE        also write every run's figures to FILE
  --help, -h         print this and exit 0`;

export const kLoadUsage = `usage: loadgen.js --connect tcp://HOST:PORT | unix:PATH [--client ${kClients.join('|')}]
                  [--connections N] [--depth N] [--payload BYTES] [--warmup MS] [--duration MS]
       loadgen.js --help

Closed-loop length-header echo load, as main.js runs it: each connection sends
--depth frames in one write, waits for every echo and sends again. Prints JSON
lines: {"event":"start"} and {"event":"end"} around the measured window, then
{"event":"result",...}. A bad flag exits 2 with a message naming it.

  --connect ADDRESS   the echo server, tcp://HOST:PORT or unix:PATH (required)
  --client NAME       core (@netpoll/core's Dialer, default) or net
  --connections N     connections, ${range('connections')} (default 100)
  --depth N           frames in flight per connection, ${range('depth')} (default 1)
  --payload BYTES     payload of each frame, ${range('payload')} (default 1024)
  --warmup MS         unmeasured load first, ${range('warmup')} (default 1000)
  --duration MS       measured window, ${range('duration')} (default 5000)
  --help, -h          print this and exit 0`;

/** What `main.js` runs. */
export interface BenchCommand {
  readonly implementations: readonly string[];
  readonly scenarios: readonly Scenario[];
  readonly repeats: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly payloadSize: number;
  readonly client: ClientName;
  readonly json: string | undefined;
}

/** Parses `main.js` flags; throws a TypeError or RangeError naming the flag. */
export function parseBenchCommand(argv: readonly string[]): BenchCommand {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      impls: { type: 'string', default: kEchoImplementations.join(',') },
      scenarios: { type: 'string', default: kScenarioIndexes.join(',') },
      repeats: { type: 'string', default: '5' },
      duration: { type: 'string', default: '5000' },
      warmup: { type: 'string', default: '1000' },
      payload: { type: 'string', default: '1024' },
      client: { type: 'string', default: 'core' },
      json: { type: 'string' },
    },
  });
  return {
    implementations: parseListFlag(values.impls, '--impls', kBenchImplementations),
    scenarios: parseListFlag(values.scenarios, '--scenarios', kScenarioIndexes).map(
      (index) => kScenarios[Number(index)]!,
    ),
    repeats: parseIntegerFlag(values.repeats, '--repeats', ...kRanges.repeats),
    durationMs: parseIntegerFlag(values.duration, '--duration', ...kRanges.duration),
    warmupMs: parseIntegerFlag(values.warmup, '--warmup', ...kRanges.warmup),
    payloadSize: parseIntegerFlag(values.payload, '--payload', ...kRanges.payload),
    client: parseChoiceFlag(values.client, '--client', kClients),
    json: values.json,
  };
}

/** What `loadgen.js` runs. */
export interface LoadCommand {
  readonly connect: string;
  readonly client: ClientName;
  readonly connections: number;
  readonly depth: number;
  readonly payloadSize: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

/** Parses `loadgen.js` flags; throws a TypeError or RangeError naming the flag. */
export function parseLoadCommand(argv: readonly string[]): LoadCommand {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      connect: { type: 'string' },
      client: { type: 'string', default: 'core' },
      connections: { type: 'string', default: '100' },
      depth: { type: 'string', default: '1' },
      payload: { type: 'string', default: '1024' },
      warmup: { type: 'string', default: '1000' },
      duration: { type: 'string', default: '5000' },
    },
  });
  if (values.connect === undefined) throw new TypeError('--connect is required');
  parseAddress(values.connect, '--connect'); // checked here, used by runLoad
  return {
    connect: values.connect,
    client: parseChoiceFlag(values.client, '--client', kClients),
    connections: parseIntegerFlag(values.connections, '--connections', ...kRanges.connections),
    depth: parseIntegerFlag(values.depth, '--depth', ...kRanges.depth),
    payloadSize: parseIntegerFlag(values.payload, '--payload', ...kRanges.payload),
    warmupMs: parseIntegerFlag(values.warmup, '--warmup', ...kRanges.warmup),
    durationMs: parseIntegerFlag(values.duration, '--duration', ...kRanges.duration),
  };
}
