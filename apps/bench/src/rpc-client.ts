#!/usr/bin/env node
/**
 * A client of the RPC benchmark, run by `main.js rpc` as a child process pinned to CPU 1:
 *
 *   node rpc-client.js      (forked, with an IPC channel; the plan arrives as the first message)
 *
 * It opens the plan's client, runs `callers` concurrent callers (each: call, await the reply,
 * check it byte for byte against its own random payload, call again) and reports over IPC:
 * `{ event: 'ready' }` once the client is open, `{ event: 'start' }` and `{ event: 'end' }` around
 * the measured window, then `{ event: 'result', ... }` with its calls, latency percentiles,
 * errors, mismatches, its own CPU time and allocation over the window (process.cpuUsage, an
 * AllocMeter) and its peak RSS.
 * It exits when it has reported, or when the IPC channel closes (the bench is gone).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as delay, setImmediate as yieldToLoop } from 'node:timers/promises';
import { type AllocFigures, AllocMeter } from './alloc-meter';
import { LatencyHistogram } from './histogram';
import { peakRssBytes } from './proc-stat';
import { GrpcEchoClient } from './rpc-grpc';
import { NetRpcClient, NetRpcPool } from './rpc-net';
import { NetpollEchoClient } from './rpc-netpoll';
import { StarterEchoClient } from './rpc-starter';

/** The stacks with a Node client. */
export type ClientStack = 'net' | 'net-pool' | 'grpc' | 'netpoll-mux' | 'netpoll-pool' | 'starter';

/** A client as the callers drive it. */
export interface EchoCaller {
  /**
   * `into`: the caller's own Buffer of the payload's size, for a client that can read its reply
   * into it (the @netpoll/rpc stacks); the others allocate their replies.
   */
  call(payload: Buffer, timeoutMs: number, into: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}

/** What the callers do. */
export interface CallPlan {
  readonly callers: number;
  readonly payloadSize: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly timeoutMs: number;
}

/** What the bench sends a client process. */
export interface ClientPlan extends CallPlan {
  readonly stack: ClientStack;
  /** The server, 'host:port'. */
  readonly address: string;
  /** Connections of the net and netpoll-mux clients. */
  readonly connections: number;
}

/** The callers' figures over the measured window. */
export interface CallResult {
  /** Calls whose reply matched, completed in the window. */
  readonly calls: number;
  readonly elapsedMs: number;
  readonly p50Micros: number;
  readonly p99Micros: number;
  /** Calls that failed in the window. */
  readonly errors: number;
  /** Replies that differed from their request, at any time. */
  readonly mismatches: number;
  /** The first failure's message, if any. */
  readonly firstError?: string;
  /** This process's CPU time over the window, µs. */
  readonly cpuMicros: number;
  /** This process's allocation over the window, per matching call (the callers' loop included). */
  readonly alloc: AllocFigures;
}

/** Opens the plan's client. */
export async function openClient(plan: ClientPlan): Promise<EchoCaller> {
  switch (plan.stack) {
    case 'net':
      return NetRpcClient.connect(plan.address, plan.connections);
    case 'net-pool':
      return new NetRpcPool(plan.address, plan.callers);
    case 'grpc':
      return GrpcEchoClient.connect(plan.address);
    case 'netpoll-mux':
      return NetpollEchoClient.connect(plan.address, {
        transport: 'mux',
        connections: plan.connections,
      });
    case 'netpoll-pool':
      // maxIdle as large as maxActive (the default maxIdle is 100, so this matters past 100
      // callers): with fewer, a batch of replies that frees more connections than maxIdle closes
      // the extra ones, and the next calls dial new ones.
      return NetpollEchoClient.connect(plan.address, {
        transport: 'pool',
        pool: { maxActive: plan.callers, maxIdle: plan.callers },
      });
    case 'starter':
      return StarterEchoClient.connect(plan.address, plan.connections);
  }
}

/**
 * Runs `plan.callers` callers on `client` for the warm-up and the measured window, calling
 * `emit({ event: 'start' })` and `emit({ event: 'end' })` exactly when the window opens and
 * closes; resolves once every caller's last call has come back.
 */
export async function runCallers(
  client: EchoCaller,
  plan: CallPlan,
  emit: (event: { readonly event: 'start' | 'end' }) => void,
): Promise<CallResult> {
  const histogram = new LatencyHistogram();
  let running = true;
  let measuring = false;
  let calls = 0;
  let errors = 0;
  let mismatches = 0;
  let firstError: string | undefined;

  const caller = async (): Promise<void> => {
    const payload = randomBytes(plan.payloadSize);
    const into = Buffer.allocUnsafe(plan.payloadSize);
    while (running) {
      const sentAt = performance.now();
      let reply: Buffer;
      try {
        reply = await client.call(payload, plan.timeoutMs, into);
      } catch (error) {
        if (measuring) errors += 1;
        firstError ??= error instanceof Error ? error.message : String(error);
        // A failing call may fail without waiting for anything: let timers run.
        await yieldToLoop();
        continue;
      }
      if (!payload.equals(reply)) {
        mismatches += 1;
        firstError ??= `a reply of ${reply.length} bytes differs from its ${payload.length}-byte request`;
        continue;
      }
      if (measuring) {
        calls += 1;
        histogram.record((performance.now() - sentAt) * 1000);
      }
    }
  };

  const callers = Array.from({ length: plan.callers }, caller);
  await delay(plan.warmupMs);
  const meter = new AllocMeter(() => calls);
  const cpuStart = process.cpuUsage();
  measuring = true;
  meter.start();
  emit({ event: 'start' });
  const started = performance.now();
  await delay(plan.durationMs);
  measuring = false;
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  // stop() closes the window at once; its figures come when the window's GC entries are in.
  const alloc = meter.stop();
  emit({ event: 'end' });
  running = false;
  await Promise.all(callers);
  return {
    calls,
    elapsedMs,
    p50Micros: calls === 0 ? 0 : histogram.quantile(0.5),
    p99Micros: calls === 0 ? 0 : histogram.quantile(0.99),
    errors,
    mismatches,
    ...(firstError === undefined ? {} : { firstError }),
    cpuMicros: cpu.user + cpu.system,
    alloc: await alloc,
  };
}

function main(): void {
  const send = process.send?.bind(process);
  if (send === undefined) {
    process.stderr.write('rpc-client.js runs as a child of main.js rpc, with an IPC channel\n');
    process.exitCode = 2;
    return;
  }
  process.on('disconnect', () => process.exit(0));
  process.once('message', (plan: ClientPlan) => {
    void (async () => {
      const client = await openClient(plan);
      send({ event: 'ready' });
      const result = await runCallers(client, plan, send);
      const peak = peakRssBytes(process.pid);
      await client.close();
      send({ event: 'result', ...result, peakRssBytes: peak }, () => process.exit(0));
    })().catch((error: unknown) => {
      process.stderr.write(
        `rpc-client.js (${plan.stack}): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    });
  });
}

if (require.main === module) main();
