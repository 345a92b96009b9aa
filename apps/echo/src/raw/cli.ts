#!/usr/bin/env node
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { joinNegativeValues, parseChoiceFlag, parseIntegerFlag, wantsHelp } from '../flags';
import {
  type EchoImplementation,
  type EchoServer,
  kDefaultMaxFrameSize,
  kEchoImplementations,
} from './echo-server';
import { type EchoAddress, formatAddress, parseAddress } from './listen-address';
import { checkReactors, startEchoServer } from './start-echo-server';

/** `--max-frame-size` range: @netpoll/core's native framing takes 1 byte to 256 MiB. */
export const kMaxFrameSizeRange = [1, 256 * 1024 * 1024] as const;
/** `--shutdown-timeout` range, in ms (@netpoll/core's timeout range). */
export const kShutdownTimeoutRange = [0, 2_147_483_647] as const;
/** `--reactors` range. */
export const kReactorsRange = [1, 256] as const;

const kUsage = `usage: cli.js serve --listen tcp://HOST:PORT | unix:PATH [--impl ${kEchoImplementations.join(' | ')}]
                    [--max-frame-size BYTES] [--shutdown-timeout MS] [--reactors N]
                    [--stats-signal]
       cli.js --help

Runs a length-header echo server (4-byte big-endian length, then the payload;
every frame is answered with an identical frame). Prints "listening on <address>"
when ready and exits 0 after a graceful shutdown on SIGINT or SIGTERM. A bad flag
exits 2 with a message naming it.

  --listen ADDRESS          tcp://HOST:PORT (port 0: any free port) or unix:PATH
  --impl NAME               core (default): @netpoll/core; net: idiomatic node:net,
                            one write per frame; net-batched: one write per chunk
  --max-frame-size BYTES    largest payload accepted, ${kMaxFrameSizeRange[0]} to ${kMaxFrameSizeRange[1]}
                            (default ${kDefaultMaxFrameSize}); a larger header closes that connection
  --shutdown-timeout MS     grace time for open connections on SIGINT/SIGTERM,
                            ${kShutdownTimeoutRange[0]} to ${kShutdownTimeoutRange[1]} (default 5000)
  --reactors N              core only, ${kReactorsRange[0]} to ${kReactorsRange[1]} (default 1): run N reactors, one per
                            worker thread; TCP connections are spread by SO_REUSEPORT
                            (Linux), Unix ones share one accept queue
  --stats-signal            on SIGUSR2, print the server's counters as one JSON line
                            {"event":"stats",...} (used by apps/bench)
  --help, -h                print this and exit 0`;

interface ServeCommand {
  readonly address: EchoAddress;
  readonly implementation: EchoImplementation;
  readonly maxFrameSize: number;
  readonly shutdownTimeout: number;
  readonly reactors: number;
  readonly statsSignal: boolean;
}

/** Parses `serve` flags; throws a TypeError or RangeError that names the flag and what it accepts. */
export function parseServeCommand(argv: readonly string[]): ServeCommand {
  const { positionals, values } = parseArgs({
    args: joinNegativeValues(argv),
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
  const implementation = parseChoiceFlag(values.impl, '--impl', kEchoImplementations);
  const reactors = parseIntegerFlag(values.reactors, '--reactors', ...kReactorsRange);
  checkReactors(implementation, reactors); // here too, so a bad command line fails before listening
  return {
    address: parseAddress(values.listen),
    implementation,
    maxFrameSize: parseIntegerFlag(
      values['max-frame-size'],
      '--max-frame-size',
      ...kMaxFrameSizeRange,
    ),
    shutdownTimeout: parseIntegerFlag(
      values['shutdown-timeout'],
      '--shutdown-timeout',
      ...kShutdownTimeoutRange,
    ),
    reactors,
    statsSignal: values['stats-signal'],
  };
}

async function main(argv: readonly string[]): Promise<void> {
  if (wantsHelp(argv)) {
    process.stdout.write(`${kUsage}\n`);
    return;
  }
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
  // Announced once the handlers are in place: a harness signals as soon as it reads this line.
  process.stdout.write(`listening on ${formatAddress(server.address)}\n`);
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
