#!/usr/bin/env node
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import {
  type EchoImplementation,
  type EchoServer,
  kDefaultMaxFrameSize,
  kEchoImplementations,
} from './echo-server';
import { type EchoAddress, formatAddress, parseAddress } from './listen-address';
import { checkReactors, startEchoServer } from './start-echo-server';

const kUsage = `usage: cli.js serve --listen tcp://HOST:PORT | unix:PATH --impl ${kEchoImplementations.join(' | ')}
                    [--max-frame-size BYTES] [--shutdown-timeout MS] [--reactors N]
                    [--stats-signal]

Runs a length-header echo server (4-byte big-endian length, then the payload;
every frame is answered with an identical frame). Prints "listening on <address>"
when ready and exits 0 after a graceful shutdown on SIGINT or SIGTERM.
--reactors N (core only, 1-256, default 1): run N reactors, one per worker thread;
TCP connections are spread by SO_REUSEPORT (Linux), Unix ones share one accept queue.
--stats-signal: on SIGUSR2, print the server's counters as one JSON line
{"event":"stats",...} (used by apps/bench).`;

interface ServeCommand {
  readonly address: EchoAddress;
  readonly implementation: EchoImplementation;
  readonly maxFrameSize: number;
  readonly shutdownTimeout: number;
  readonly reactors: number;
  readonly statsSignal: boolean;
}

/** Parses `serve` flags; throws a TypeError or RangeError that names the flag. */
export function parseServeCommand(argv: readonly string[]): ServeCommand {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      listen: { type: 'string' },
      impl: { type: 'string', default: 'core' },
      'max-frame-size': { type: 'string', default: String(kDefaultMaxFrameSize) },
      'shutdown-timeout': { type: 'string', default: '5000' },
      reactors: { type: 'string', default: '1' },
      'stats-signal': { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1 || positionals[0] !== 'serve') {
    throw new TypeError(
      `expected the command "serve" (received ${positionals.join(' ') || 'none'})`,
    );
  }
  if (values.listen === undefined) throw new TypeError('--listen is required');
  const implementation = values.impl as EchoImplementation;
  if (!kEchoImplementations.includes(implementation)) {
    throw new TypeError(
      `--impl must be one of ${kEchoImplementations.join(', ')} (received ${values.impl})`,
    );
  }
  return {
    address: parseAddress(values.listen),
    implementation,
    maxFrameSize: parseCount(values['max-frame-size'], '--max-frame-size'),
    shutdownTimeout: parseCount(values['shutdown-timeout'], '--shutdown-timeout'),
    reactors: parseReactors(values.reactors, implementation),
    statsSignal: values['stats-signal'],
  };
}

function parseCount(text: string, flag: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw new TypeError(`${flag} must be a non-negative integer (received ${text})`);
  }
  return value;
}

function parseReactors(text: string, implementation: EchoImplementation): number {
  const reactors = parseCount(text, '--reactors');
  if (reactors < 1 || reactors > 256) {
    throw new RangeError(`--reactors must be from 1 to 256 (received ${text})`);
  }
  checkReactors(implementation, reactors); // here too, so a bad command line fails before listening
  return reactors;
}

async function main(argv: readonly string[]): Promise<void> {
  let command: ServeCommand;
  try {
    command = parseServeCommand(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${kUsage}\n`);
    process.exitCode = 2;
    return;
  }
  const server: EchoServer = await startEchoServer(command.implementation, command.address, {
    maxFrameSize: command.maxFrameSize,
    reactors: command.reactors,
  });
  process.stdout.write(`listening on ${formatAddress(server.address)}\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    server.close(command.shutdownTimeout).then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  if (command.statsSignal) {
    const collections = countGarbageCollections();
    process.on('SIGUSR2', () => {
      const line = { event: 'stats', ...server.stats(), ...collections };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    });
  }
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** Counts garbage collections by kind: a per-request figure that shows allocation pressure. */
function countGarbageCollections(): Record<string, number> {
  const counts = { gcMinor: 0, gcMajor: 0 };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) counts.gcMinor += 1;
      else counts.gcMajor += 1;
    }
  }).observe({ entryTypes: ['gc'] });
  return counts;
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
