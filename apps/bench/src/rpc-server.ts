#!/usr/bin/env node
/**
 * A server of the RPC benchmark, run by `main.js rpc` as a child process pinned to CPU 0:
 *
 *   node rpc-server.js net | grpc | netpoll | starter | c      (forked, with an IPC channel)
 *
 * Listens on 127.0.0.1 (a kernel-chosen port) with an `echo` method and reports over IPC:
 * `{ event: 'listening', address }` once it accepts calls; on `{ type: 'sample' }` its CPU time so
 * far (process.cpuUsage(), user + system, every thread) and its peak RSS (VmHWM) — for `c`, those
 * of the C echo server it runs as its own child (which inherits its CPU) — as
 * `{ event: 'sample', cpuMicros, peakRssBytes }`; on `{ type: 'stop' }` it closes and exits 0.
 * Samples also open and close allocation windows in turn: the first starts an AllocMeter over the
 * calls served, the next stops it and its reply carries the figures as `alloc`.
 * It exits as well when the IPC channel closes (the bench is gone).
 */
import { type AllocFigures, AllocMeter } from './alloc-meter';
import { ensureCEcho } from './c-echo';
import { peakRssBytes, processCpuTimes } from './proc-stat';
import { startGrpcEchoServer } from './rpc-grpc';
import { startNetRpcServer } from './rpc-net';
import { startNetpollEchoServer } from './rpc-netpoll';
import { startStarterServer } from './rpc-starter';
import { startProcess } from './server-process';

/**
 * The server implementations; the netpoll-* stacks all run `netpoll`, the `starter` stack apps/echo's
 * RPC starter (whose calls run in its reactor thread: no allocation figures, see below), the
 * `c-native-load` stack the plain C epoll echo server (the floor; no JS, no allocation figures).
 */
export const kServerKinds = ['net', 'grpc', 'netpoll', 'starter', 'c'] as const;
export type ServerKind = (typeof kServerKinds)[number];

/** A message the bench sends a server. */
export type ServerRequest = { readonly type: 'sample' } | { readonly type: 'stop' };

/** What a server answers to `{ type: 'sample' }`. */
export interface ServerSample {
  readonly cpuMicros: number;
  /** The part of `cpuMicros` spent in the kernel (system time). */
  readonly systemMicros: number;
  readonly peakRssBytes: number;
  /**
   * On every second sample: allocation since the one before; null for the starter, whose calls
   * run in a reactor thread where this process's main-thread meter sees neither them nor their
   * allocation, and for the C server (no JS heap).
   */
  readonly alloc?: AllocFigures | null;
}

/** A running server; `pid`: the process that serves, when it is not this one (the C server). */
export interface RunningServer {
  readonly address: string;
  readonly pid?: number;
  close(): Promise<void>;
}

/**
 * Starts the `kind` echo server on 127.0.0.1, port 0, calling `onCall` for every call served
 * (not for `c`, whose calls never reach this process).
 */
export function startRpcServer(
  kind: ServerKind,
  onCall: () => void = () => {},
): Promise<RunningServer> {
  switch (kind) {
    case 'net':
      return startNetRpcServer((request) => {
        onCall();
        return request;
      });
    case 'grpc':
      return startGrpcEchoServer({ onCall });
    case 'netpoll':
      return startNetpollEchoServer({ onCall });
    case 'starter':
      return startStarterServer();
    case 'c':
      return startCEchoServer();
  }
}

/**
 * The C echo server (built when needed) as a child of this process, on this process's CPUs,
 * once it printed its port. `close()` ends it (SIGTERM) and waits for its exit.
 */
async function startCEchoServer(): Promise<RunningServer> {
  // Its frame limit: the bench's largest payload, its call id and room to spare (the load
  // generator's own limit), not the server's 1 MiB default.
  const child = startProcess(ensureCEcho(), [String(4 << 20)], null, 'netpoll_c_echo', 'pipe');
  try {
    const port = await child.waitForLine((line) => /^(\d+)$/.exec(line)?.[1], 30_000);
    return {
      address: `127.0.0.1:${port}`,
      pid: child.pid,
      close: async () => {
        await child.stop();
      },
    };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

/** The serving process's CPU time so far, µs (all threads): this one, or the C server's. */
function cpuSoFar(pid: number | undefined): { cpuMicros: number; systemMicros: number } {
  if (pid === undefined) {
    const usage = process.cpuUsage();
    return { cpuMicros: usage.user + usage.system, systemMicros: usage.system };
  }
  const { userMicros, systemMicros } = processCpuTimes(pid);
  return { cpuMicros: userMicros + systemMicros, systemMicros };
}

async function main(kind: string): Promise<void> {
  const send = process.send?.bind(process);
  if (send === undefined) {
    process.stderr.write('rpc-server.js runs as a child of main.js rpc, with an IPC channel\n');
    process.exitCode = 2;
    return;
  }
  if (!(kServerKinds as readonly string[]).includes(kind)) {
    process.stderr.write(
      `rpc-server.js: the server must be one of ${kServerKinds.join(', ')} (received ${kind})\n`,
    );
    process.exitCode = 2;
    return;
  }
  process.on('disconnect', () => process.exit(0));
  let served = 0;
  const server = await startRpcServer(kind as ServerKind, () => {
    served += 1;
  });
  let meter: AllocMeter | undefined;
  let samples = 0;
  process.on('message', (message: ServerRequest) => {
    if (message.type === 'sample') {
      const sample: ServerSample = {
        ...cpuSoFar(server.pid),
        peakRssBytes: peakRssBytes(server.pid ?? process.pid),
      };
      samples += 1;
      if (kind === 'starter' || kind === 'c') {
        send({ event: 'sample', ...sample, ...(samples % 2 === 0 ? { alloc: null } : {}) });
        return;
      }
      if (meter === undefined) {
        meter = new AllocMeter(() => served);
        meter.start();
        send({ event: 'sample', ...sample });
        return;
      }
      // The window closes now; the figures follow once the window's GC entries are in.
      const closing = meter.stop();
      meter = undefined;
      void closing.then((alloc) => send({ event: 'sample', ...sample, alloc }));
    } else if (message.type === 'stop') {
      void server.close().finally(() => process.exit(0));
    }
  });
  send({ event: 'listening', address: server.address });
}

if (require.main === module) {
  main(process.argv[2] ?? '').catch((error: unknown) => {
    process.stderr.write(
      `rpc-server.js: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
