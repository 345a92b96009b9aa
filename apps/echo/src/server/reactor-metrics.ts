/**
 * The metrics of one reactor thread, fed by the documented hooks that fire there: the
 * `netpoll:rpc:server:call` tracing channel (calls by method and code, latency), core's
 * `netpoll:connection:open`/`close` channels, and core's `getReactorStats()`. They live in a
 * prom-client registry of this thread; the main thread collects them over a BroadcastChannel
 * (see server-metrics.ts) and sums them with its own.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { BroadcastChannel, threadId } from 'node:worker_threads';
import { getReactorStats, type ReactorStats } from '@netpoll/core';
import { isNetpollError, RpcStatus, serverCallChannel } from '@netpoll/rpc';
import { Counter, Gauge, type Metric, Registry } from 'prom-client';
import { DurationHistogram } from './duration-histogram';
import type { CallTally, MetricsMessage, ReactorTally } from './metrics-messages';

/** Latency buckets in seconds: 0.5 ms to 10 s. */
export const kDurationBuckets = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** core's counters exported as Prometheus counters: [stats key, metric name, help]. */
const kReactorCounters: ReadonlyArray<readonly [keyof ReactorStats, string, string]> = [
  ['batches', 'netpoll_reactor_batches_total', 'poll batches that found events'],
  ['events', 'netpoll_reactor_events_total', 'readiness events handled'],
  ['reads', 'netpoll_reactor_reads_total', 'read() system calls'],
  ['bytesRead', 'netpoll_reactor_read_bytes_total', 'bytes read from sockets'],
  ['writevCalls', 'netpoll_reactor_write_calls_total', 'write system calls (send, sendmsg)'],
  ['bytesWritten', 'netpoll_reactor_written_bytes_total', 'bytes written to sockets'],
  ['accepts', 'netpoll_reactor_accepts_total', 'connections accepted'],
  ['writeBlocked', 'netpoll_reactor_write_blocked_total', 'writes that hit EAGAIN (backpressure)'],
  ['acceptBackoffs', 'netpoll_reactor_accept_backoffs_total', 'accept pauses on EMFILE/ENFILE'],
  ['readStalls', 'netpoll_reactor_read_stalls_total', 'reads parked at the inbound memory cap'],
  [
    'lingerExpired',
    'netpoll_reactor_linger_expired_total',
    'lingering closes cut at their deadline',
  ],
];

/** core's current values exported as gauges. */
const kReactorGauges: ReadonlyArray<readonly [keyof ReactorStats, string, string]> = [
  ['lingering', 'netpoll_reactor_lingering', 'closes lingering now'],
  ['inboundSlabs', 'netpoll_reactor_inbound_slabs', 'inbound slabs registered'],
  ['outboundSlabs', 'netpoll_reactor_outbound_slabs', 'outbound buffers registered now'],
];

/** The trace message of one call; `startedAt` is our annotation (the channel allows it). */
interface CallTrace {
  method: string;
  error?: unknown;
  startedAt?: number;
}

/**
 * The code the server answers for a handler's error, as `@netpoll/rpc` decides it: an
 * `RpcStatus`'s own code, `CONNECTION_CLOSED` when the connection went away, else `INTERNAL`.
 * (The channel's error message carries the error, not the code: this mirrors the server.)
 */
export function answeredCode(error: unknown): string {
  if (error instanceof RpcStatus) return error.status;
  if (isNetpollError(error) && error.code === 'ERR_NETPOLL_RPC_CLOSED') return 'CONNECTION_CLOSED';
  return 'INTERNAL';
}

/**
 * Subscribes this thread's hooks and answers the main thread's collect requests on
 * `channelName`. Returns a function that unsubscribes (for tests; a reactor keeps it for life).
 */
export function startReactorMetrics(channelName: string): () => void {
  const registry = new Registry();
  const reactor = String(threadId);
  // Calls are counted per call in plain objects (the tally below) and handed to prom-client only
  // when it is scraped: its own inc/observe hash the label set on every call.
  const tally: CallTally = Object.create(null);
  new Counter({
    name: 'rpc_server_calls_total',
    help: 'calls that reached a handler, by method and answered code (OK for a success)',
    labelNames: ['method', 'code'],
    registers: [registry],
    collect() {
      this.reset();
      for (const method in tally) {
        const byCode = tally[method]!;
        for (const code in byCode) this.inc({ method, code }, byCode[code]!);
      }
    },
  });
  const duration = new DurationHistogram(
    'rpc_server_call_duration_seconds',
    'time from the start of a handler to its answer, by method',
    kDurationBuckets,
  );
  registry.registerMetric(duration as unknown as Metric);
  const opened = new Counter({
    name: 'netpoll_connections_opened_total',
    help: 'server connections accepted',
    registers: [registry],
  });
  const closed = new Counter({
    name: 'netpoll_connections_closed_total',
    help: 'server connections closed, by the error that closed them (none for a clean close)',
    labelNames: ['error'],
    registers: [registry],
  });
  const reactorCounters = kReactorCounters.map(
    ([key, name, help]) =>
      [key, new Counter({ name, help, labelNames: ['reactor'], registers: [registry] })] as const,
  );
  const reactorGauges = kReactorGauges.map(
    ([key, name, help]) =>
      [key, new Gauge({ name, help, labelNames: ['reactor'], registers: [registry] })] as const,
  );

  let connections = 0;
  const snapshot = (): ReactorTally => ({ reactor: threadId, connections, calls: tally });

  const finish = (trace: CallTrace, code: string): void => {
    if (trace.startedAt !== undefined) {
      duration.observe(trace.method, (performance.now() - trace.startedAt) / 1000);
    }
    tally[trace.method] ??= Object.create(null) as Record<string, number>;
    const byCode = tally[trace.method]!;
    byCode[code] = (byCode[code] ?? 0) + 1;
  };
  const handlers = {
    start(message: unknown) {
      (message as CallTrace).startedAt = performance.now();
    },
    asyncEnd(message: unknown) {
      finish(message as CallTrace, 'OK');
    },
    error(message: unknown) {
      const trace = message as CallTrace;
      finish(trace, answeredCode(trace.error));
    },
  };
  serverCallChannel.subscribe(handlers as never);

  const channel = new BroadcastChannel(channelName);
  // Never keep a reactor thread alive: it must exit once its loop has shut down.
  channel.unref();

  // Only accepted connections count: a client in the same thread publishes on these channels too.
  const served = new WeakSet<object>();
  const onOpen = (message: unknown): void => {
    const { connection, side } = message as { connection: object; side: string };
    if (side !== 'server') return;
    served.add(connection);
    connections++;
    opened.inc();
  };
  const onClose = (message: unknown): void => {
    const { connection, error } = message as {
      connection: object;
      error: { code?: string } | null;
    };
    if (!served.delete(connection)) return;
    connections--;
    closed.inc({ error: error?.code ?? 'none' });
    // At shutdown the last close of a reactor carries its final count (see TallyPush).
    channel.postMessage({ type: 'tally', tally: snapshot() } satisfies MetricsMessage);
  };
  subscribe('netpoll:connection:open', onOpen);
  subscribe('netpoll:connection:close', onClose);

  channel.onmessage = (event: unknown) => {
    const message = (event as { data: MetricsMessage }).data;
    if (message.type !== 'collect') return;
    const stats = getReactorStats();
    for (const [key, counter] of reactorCounters) {
      counter.reset();
      counter.inc({ reactor }, stats[key]);
    }
    for (const [key, gauge] of reactorGauges) gauge.set({ reactor }, stats[key]);
    void registry.getMetricsAsJSON().then((metrics) => {
      channel.postMessage({
        type: 'metrics',
        id: message.id,
        tally: snapshot(),
        metrics,
      } satisfies MetricsMessage);
    });
  };

  return () => {
    serverCallChannel.unsubscribe(handlers as never);
    unsubscribe('netpoll:connection:open', onOpen);
    unsubscribe('netpoll:connection:close', onClose);
    channel.close();
  };
}
