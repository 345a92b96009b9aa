/**
 * The command line of `main.js rpc` (the RPC benchmark): its usage text and a parser that checks
 * every flag before anything starts. The parser throws an error that names the flag, what it
 * accepts and what it received; the command prints it with its usage and exits 2.
 */
import { parseArgs } from 'node:util';
import { isIntegerText, parseIntegerFlag, parseListFlag } from '@netpoll/app-echo';
import type { NativeLoadWire } from './rpc-loadgen';

/**
 * The stacks the RPC benchmark compares, each a server and a client:
 * - `net`: an idiomatic node:net RPC server and client on `--connections` connections (rpc-net.ts);
 * - `net-pool`: the same server, the client a pool of connections with one call on each at a time
 *   (the node:net equivalent of @netpoll/rpc's pool transport);
 * - `grpc`: @grpc/grpc-js unary calls with raw-bytes serializers (rpc-grpc.ts);
 * - `netpoll-mux`, `netpoll-pool`: @netpoll/rpc's server and its client's mux or pool transport;
 * - `netpoll-native-load`: @netpoll/rpc's server driven by the C++ netpoll_rpc_loadgen;
 * - `net-native-load`: the `net` server driven by the same load generator in the `net` framing,
 *   so the two servers are compared with the Node clients' cost and behaviour taken out;
 * - `c-native-load`: the plain C epoll echo server under the same load (plain length-header
 *   frames): what the kernel alone costs per call, the floor of every server here;
 * - `starter`: apps/echo's RPC starter server (JSON `echo`) and its typed client (rpc-starter.ts).
 */
export const kRpcStacks = [
  'net',
  'net-pool',
  'grpc',
  'netpoll-mux',
  'netpoll-pool',
  'netpoll-native-load',
  'net-native-load',
  'c-native-load',
  'starter',
] as const;
export type RpcStack = (typeof kRpcStacks)[number];

/** The stacks whose client is the C++ load generator, and the framing it speaks to each server. */
export const kNativeLoadWire: Readonly<Partial<Record<RpcStack, NativeLoadWire>>> = {
  'netpoll-native-load': 'rpc',
  'net-native-load': 'net',
  'c-native-load': 'frame',
};

/** True when the stack's client is the C++ load generator (no Node client, no client allocation). */
export function isNativeLoad(stack: RpcStack): boolean {
  return kNativeLoadWire[stack] !== undefined;
}

/** Accepted ranges of the numeric flags (inclusive). */
export const kRpcRanges = {
  /** Repeats of every caller count × stack. */
  repeats: [1, 1000],
  /** Measured window per run, ms. */
  duration: [100, 3_600_000],
  /** Unmeasured load before each window, ms. */
  warmup: [0, 600_000],
  /** Concurrent outstanding calls. */
  callers: [1, 10_000],
  /** Client connections of the net, netpoll-mux and native-load stacks (256: the mux limit). */
  connections: [1, 256],
  /** Payload bytes per call (a quarter of the stacks' 4 MiB message limits). */
  payload: [0, 1_048_576],
  /** Deadline of every call, ms. */
  timeout: [1, 600_000],
} as const satisfies Record<string, readonly [number, number]>;

const range = (name: keyof typeof kRpcRanges): string =>
  `${kRpcRanges[name][0]} to ${kRpcRanges[name][1]}`;

export const kRpcUsage = `usage: main.js rpc [--stacks ${kRpcStacks.join(',')}]
                   [--callers 100,1000] [--repeats N] [--duration MS] [--warmup MS]
                   [--connections N] [--payload BYTES] [--timeout MS] [--json FILE]
       main.js rpc --help

Runs the unary echo RPC benchmark: for every stack and caller count, the
stack's server in a child process pinned to CPU 0 and its client in one
pinned to CPU 1; each caller sends a call, awaits the reply, checks it byte
for byte and calls again. Reports server and client CPU µs per call,
calls/s, p50/p99, both sides' peak RSS and the JS heap and ArrayBuffer bytes
each side allocates per call (the Node processes only; medians over the
repeats), with ratios of the @netpoll/rpc stacks against net and grpc (and
of the C server against net under the same C++ load), and the issue's
targets (netpoll-mux at 100 callers: no ArrayBuffer per call on either side
means at most 1% of --payload bytes per call, 1 at least). A bad flag exits
2 with a message naming it.

  --stacks LIST       stacks to run, from ${kRpcStacks.join(', ')}
                      (default all):
                        net: idiomatic node:net RPC, [u32 length][u32 id][payload],
                          the client on --connections connections
                        net-pool: the same, the client a pool of up to one connection
                          per caller, one call per connection at a time
                        grpc: @grpc/grpc-js unary, raw-bytes serializers, one channel
                        netpoll-mux: @netpoll/rpc, mux transport over --connections,
                          each caller's replies read into its own Buffer (\`into\`)
                        netpoll-pool: @netpoll/rpc, pool transport (maxActive and
                          maxIdle = callers), replies as netpoll-mux
                        netpoll-native-load: @netpoll/rpc's server under the C++
                          netpoll_rpc_loadgen (the callers over --connections)
                        net-native-load: net's server under the same load generator,
                          speaking net's framing (the callers over --connections)
                        c-native-load: the plain C epoll echo server (the kernel's
                          floor) under the same load generator, in plain frames
                        starter: apps/echo's RPC starter server (1 reactor, metrics,
                          logging) and its typed client, mux over --connections;
                          echo of { message } as JSON, the payload as ASCII text
  --callers LIST      concurrent outstanding calls, distinct integers from
                      ${range('callers')} (default 100,1000)
  --repeats N         runs of every stack and caller count, ${range('repeats')} (default 5)
  --duration MS       measured window of each run, ${range('duration')} (default 4000)
  --warmup MS         unmeasured calls before each window, ${range('warmup')} (default 1000)
  --connections N     client connections of net, netpoll-mux, the native loads, starter,
                      ${range('connections')} (default 4)
  --payload BYTES     random payload of each call, ${range('payload')} (default 1024);
                      sets the ArrayBuffer targets (1% of it per call)
  --timeout MS        deadline of each call, ${range('timeout')} (default 5000)
  --json FILE         where to write every run's figures, the medians, the ratios,
                      the machine and the command (default rpc-bench-TIMESTAMP.json)
  --help, -h          print this and exit 0`;

/** What `main.js rpc` runs. */
export interface RpcCommand {
  readonly stacks: readonly RpcStack[];
  readonly callers: readonly number[];
  readonly repeats: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly connections: number;
  readonly payloadSize: number;
  readonly timeoutMs: number;
  readonly json: string | undefined;
}

/**
 * Parses a comma-separated list of distinct integers from `min` to `max`. Throws a RangeError
 * naming the flag otherwise.
 */
export function parseIntegerListFlag(
  text: string,
  flag: string,
  min: number,
  max: number,
): number[] {
  const items = text.split(',');
  const values = items.map(Number);
  const valid =
    items.every((item) => isIntegerText(item, min, max)) && new Set(values).size === values.length;
  if (!valid) {
    throw new RangeError(
      `${flag} must be a comma-separated list of distinct integers from ${min} to ${max} (received ${text})`,
    );
  }
  return values;
}

/** Parses `main.js rpc` flags (after `rpc`); throws a TypeError or RangeError naming the flag. */
export function parseRpcCommand(argv: readonly string[]): RpcCommand {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      stacks: { type: 'string', default: kRpcStacks.join(',') },
      callers: { type: 'string', default: '100,1000' },
      repeats: { type: 'string', default: '5' },
      duration: { type: 'string', default: '4000' },
      warmup: { type: 'string', default: '1000' },
      connections: { type: 'string', default: '4' },
      payload: { type: 'string', default: '1024' },
      timeout: { type: 'string', default: '5000' },
      json: { type: 'string' },
    },
  });
  if (values.json === '') throw new RangeError('--json must name a file (received an empty value)');
  return {
    stacks: parseListFlag(values.stacks, '--stacks', kRpcStacks),
    callers: parseIntegerListFlag(values.callers, '--callers', ...kRpcRanges.callers),
    repeats: parseIntegerFlag(values.repeats, '--repeats', ...kRpcRanges.repeats),
    durationMs: parseIntegerFlag(values.duration, '--duration', ...kRpcRanges.duration),
    warmupMs: parseIntegerFlag(values.warmup, '--warmup', ...kRpcRanges.warmup),
    connections: parseIntegerFlag(values.connections, '--connections', ...kRpcRanges.connections),
    payloadSize: parseIntegerFlag(values.payload, '--payload', ...kRpcRanges.payload),
    timeoutMs: parseIntegerFlag(values.timeout, '--timeout', ...kRpcRanges.timeout),
    json: values.json,
  };
}
