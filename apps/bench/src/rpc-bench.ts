/**
 * One measured run of the RPC benchmark: a stack's server in a child process on CPU 0, its client
 * (a Node client process, or netpoll_rpc_loadgen for the native-load stacks) on CPU 1. The client
 * reports when its measured window opens and closes; the bench then asks the server for its CPU
 * time, so both sides' CPU is taken over the same window, and the server measures its allocation
 * between those two samples. Both children are stopped and reaped before the run returns, whether
 * it succeeded or not.
 */
import { join } from 'node:path';
import type { AllocFigures } from './alloc-meter';
import {
  type BenchChild,
  type ChildEvent,
  forkChild,
  sendTo,
  spawnChild,
  stopChild,
} from './rpc-children';
import type { CallResult, ClientPlan, ClientStack } from './rpc-client';
import { kNativeLoadWire, type RpcStack } from './rpc-commands';
import { type NativeLoadResult, nativeLoadArgs } from './rpc-loadgen';
import type { ServerKind, ServerSample } from './rpc-server';

/** One run's figures. */
export interface RpcRunResult {
  readonly stack: RpcStack;
  readonly callers: number;
  readonly calls: number;
  readonly elapsedMs: number;
  readonly callsPerSecond: number;
  readonly serverCpuMicrosPerCall: number;
  /** The part of `serverCpuMicrosPerCall` spent in the kernel. */
  readonly serverSystemMicrosPerCall: number;
  readonly clientCpuMicrosPerCall: number;
  readonly p50Micros: number;
  readonly p99Micros: number;
  readonly serverPeakRssBytes: number;
  readonly clientPeakRssBytes: number;
  readonly errors: number;
  readonly firstError?: string;
  /** The server's allocation over the window, per call it served; null for the starter. */
  readonly serverAlloc: AllocFigures | null;
  /** The Node client's over its window, per matching call; null for the native load generator. */
  readonly clientAlloc: AllocFigures | null;
}

/** What every run shares. */
export interface RpcRunOptions {
  readonly connections: number;
  readonly payloadSize: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly timeoutMs: number;
  /** Pin the server to CPU 0 and the client to CPU 1. */
  readonly pinned: boolean;
  /** netpoll_rpc_loadgen, when a run needs it. */
  readonly loadgenPath?: string;
}

/** The server each stack runs. */
export function serverKind(stack: RpcStack): ServerKind {
  if (stack === 'net' || stack === 'net-pool' || stack === 'net-native-load') return 'net';
  if (stack === 'c-native-load') return 'c';
  if (stack === 'grpc') return 'grpc';
  if (stack === 'starter') return 'starter';
  return 'netpoll';
}

/**
 * Asks a server for its sample. Its wait and the send settle together: a send that fails (the
 * server's channel closed, it is on its way out) fails the sample at once, and the wait's own
 * rejection, when the server's exit comes, is not left unheard.
 */
export async function sampleServer(server: BenchChild): Promise<ServerSample> {
  const [, reply] = await Promise.all([
    sendTo(server, { type: 'sample' }, 'sample request'),
    server.nextEvent('sample', 30_000),
  ]);
  return reply as unknown as ServerSample;
}

/**
 * Stops a server (`{ type: 'stop' }`) and waits until it is reaped; SIGKILL when the request
 * cannot be sent — a server killed or crashed whose exit is not seen yet, as on SIGINT, when the
 * bench kills both children and the client's exit is seen first — or after the grace time.
 */
export function stopServer(server: BenchChild): Promise<number | string> {
  return stopChild(server, () => sendTo(server, { type: 'stop' }, 'stop request'));
}

/** Runs `stack` with `callers` callers once. Throws when a reply did not match its request. */
export async function runRpcOnce(
  stack: RpcStack,
  callers: number,
  options: RpcRunOptions,
): Promise<RpcRunResult> {
  const server = forkChild(
    `${stack} server`,
    join(__dirname, 'rpc-server.js'),
    [serverKind(stack)],
    options.pinned ? 0 : null,
  );
  let client: BenchChild | undefined;
  try {
    const { address } = (await server.nextEvent('listening', 30_000)) as unknown as {
      address: string;
    };
    const windowTimeout = options.warmupMs + options.durationMs + 60_000;
    let result: Omit<CallResult, 'alloc'> & { readonly peakRssBytes: number };
    let clientAlloc: AllocFigures | null = null;
    let serverStart: ServerSample;
    let serverEnd: ServerSample;
    const wire = kNativeLoadWire[stack];
    if (wire !== undefined) {
      if (options.loadgenPath === undefined) throw new Error('netpoll_rpc_loadgen was not built');
      client = spawnChild(
        `${stack} load generator`,
        options.loadgenPath,
        // It speaks the framing of the server it drives.
        nativeLoadArgs({ address, callers, ...options }, wire),
        options.pinned ? 1 : null,
      );
      await client.nextEvent('start', windowTimeout);
      serverStart = await sampleServer(server);
      await client.nextEvent('end', windowTimeout);
      serverEnd = await sampleServer(server);
      const line = (await client.nextEvent('result', 60_000)) as unknown as NativeLoadResult;
      result = {
        ...line,
        ...(line.firstErrorCode === '' ? {} : { firstError: line.firstErrorCode }),
      };
    } else {
      client = forkChild(
        `${stack} client`,
        join(__dirname, 'rpc-client.js'),
        [],
        options.pinned ? 1 : null,
      );
      const plan: ClientPlan = {
        stack: stack as ClientStack,
        address,
        callers,
        connections: options.connections,
        payloadSize: options.payloadSize,
        warmupMs: options.warmupMs,
        durationMs: options.durationMs,
        timeoutMs: options.timeoutMs,
      };
      await sendTo(client, plan, 'plan');
      await client.nextEvent('ready', 60_000);
      await client.nextEvent('start', windowTimeout);
      serverStart = await sampleServer(server);
      await client.nextEvent('end', windowTimeout);
      serverEnd = await sampleServer(server);
      const reply = (await client.nextEvent('result', options.timeoutMs + 60_000)) as ChildEvent &
        CallResult & { readonly peakRssBytes: number };
      result = reply;
      clientAlloc = reply.alloc;
    }
    if (serverEnd.alloc === undefined) throw new Error(`${stack} server: no allocation figures`);
    if (result.mismatches > 0) {
      throw new Error(
        `${stack} at ${callers} callers: ${result.mismatches} replies differed from their requests` +
          `${result.firstError === undefined ? '' : ` (${result.firstError})`}`,
      );
    }
    const calls = Math.max(result.calls, 1);
    return {
      stack,
      callers,
      calls: result.calls,
      elapsedMs: result.elapsedMs,
      callsPerSecond: (result.calls * 1000) / result.elapsedMs,
      serverCpuMicrosPerCall: (serverEnd.cpuMicros - serverStart.cpuMicros) / calls,
      serverSystemMicrosPerCall: (serverEnd.systemMicros - serverStart.systemMicros) / calls,
      clientCpuMicrosPerCall: result.cpuMicros / calls,
      p50Micros: result.p50Micros,
      p99Micros: result.p99Micros,
      serverPeakRssBytes: serverEnd.peakRssBytes,
      clientPeakRssBytes: result.peakRssBytes,
      errors: result.errors,
      ...(result.firstError === undefined ? {} : { firstError: result.firstError }),
      serverAlloc: serverEnd.alloc,
      clientAlloc,
    };
  } finally {
    if (client !== undefined) {
      const child = client;
      await stopChild(child, () => child.process.kill('SIGTERM'));
    }
    await stopServer(server);
  }
}
