#!/usr/bin/env node
import { parseAddress, wantsHelp } from '@netpoll/app-echo';
import { type ClientName, kLoadUsage, type LoadCommand, parseLoadCommand } from './commands';
import { coreTransport } from './core-transport';
import { encodeFrames, FrameCounter } from './frame-counter';
import { LatencyHistogram } from './histogram';
import { type LoadConnection, type LoadTransport, netTransport } from './load-transport';

/** What the load generator reports on its last stdout line. */
export interface LoadResult {
  readonly requests: number;
  readonly elapsedMs: number;
  readonly p50Micros: number;
  readonly p99Micros: number;
  readonly errors: number;
}

interface LoadPlan {
  readonly connections: number;
  /** Frames sent back to back per round trip: 1 is ping-pong, 16 is pipelined ×16. */
  readonly depth: number;
  readonly payloadSize: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

/**
 * Closed-loop load: each connection sends `depth` frames in one write, waits
 * for all `depth` echoes, records the round trip and sends again. Emits
 * `{"event":"start"}` when the measured window opens and `{"event":"end"}`
 * when it closes, so a harness can sample the server's CPU time exactly then.
 */
export async function runLoad(
  transport: LoadTransport,
  target: string,
  plan: LoadPlan,
  emit: (line: object) => void,
): Promise<LoadResult> {
  const address = parseAddress(target, '--connect');
  const batch = encodeFrames(plan.payloadSize, plan.depth);
  const histogram = new LatencyHistogram();
  let measuring = false;
  let running = true;
  let requests = 0;
  let errors = 0;
  const idle: Array<() => void> = [];

  const startOne = async (): Promise<LoadConnection> => {
    const counter = new FrameCounter(plan.payloadSize);
    let outstanding = 0;
    let sentAt = 0;
    let connection: LoadConnection | undefined;
    const send = (): void => {
      outstanding = plan.depth;
      sentAt = performance.now();
      connection!.write(batch);
    };
    connection = await transport(address, {
      data(bytes, start, end) {
        outstanding -= counter.feed(bytes, start, end);
        if (outstanding > 0) return;
        if (measuring) {
          histogram.record((performance.now() - sentAt) * 1000);
          requests += plan.depth;
        }
        if (running) send();
        else idle.shift()?.();
      },
      closed(error) {
        if (running && error !== undefined) errors += 1;
      },
    });
    send();
    return connection;
  };

  const connections: LoadConnection[] = [];
  for (let index = 0; index < plan.connections; index++) connections.push(await startOne());
  await delay(plan.warmupMs);
  measuring = true;
  emit({ event: 'start' });
  const started = performance.now();
  await delay(plan.durationMs);
  measuring = false;
  const elapsedMs = performance.now() - started;
  emit({ event: 'end' });
  running = false;
  for (const connection of connections) connection.close();
  return {
    requests,
    elapsedMs,
    p50Micros: histogram.quantile(0.5),
    p99Micros: histogram.quantile(0.99),
    errors,
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function main(argv: readonly string[]): Promise<void> {
  if (wantsHelp(argv)) {
    process.stdout.write(`${kLoadUsage}\n`);
    return;
  }
  let command: LoadCommand;
  try {
    command = parseLoadCommand(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${kLoadUsage}\n`);
    process.exitCode = 2;
    return;
  }
  const emit = (line: object): void => {
    process.stdout.write(`${JSON.stringify(line)}\n`);
  };
  const result = await runLoad(loadTransport(command.client), command.connect, command, emit);
  emit({ event: 'result', ...result });
  process.exit(0);
}

function loadTransport(name: ClientName): LoadTransport {
  return name === 'net' ? netTransport : coreTransport;
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
