/**
 * The messages between the main thread's metrics and the reactor threads', on one
 * BroadcastChannel per server. Calls run in the reactor threads, and diagnostics channels publish
 * in the thread where the call runs, so the main thread asks the reactors for what they counted.
 */
import type { Registry } from 'prom-client';

/** A registry's metrics as plain data (`getMetricsAsJSON()`), which crosses threads as it is. */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** Calls that reached a handler, by method and then by code (`OK` for a success). */
export type CallTally = Record<string, Record<string, number>>;

/** What one reactor counted so far. */
export interface ReactorTally {
  /** The reactor's thread id. */
  readonly reactor: number;
  /** Server connections open on it now. */
  readonly connections: number;
  readonly calls: CallTally;
}

/** main → reactors: send your metrics. */
export interface CollectRequest {
  readonly type: 'collect';
  readonly id: number;
}

/** reactor → main: the answer to a {@link CollectRequest}. */
export interface CollectReply {
  readonly type: 'metrics';
  readonly id: number;
  readonly tally: ReactorTally;
  readonly metrics: MetricsJson;
}

/** reactor → main, unasked, whenever one of its connections closes (so the last one is the total). */
export interface TallyPush {
  readonly type: 'tally';
  readonly tally: ReactorTally;
}

export type MetricsMessage = CollectRequest | CollectReply | TallyPush;
