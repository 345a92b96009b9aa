/**
 * A short load on the Echo service: `concurrency` callers, each calling again as soon as its call
 * settles, until `calls` were made or `duration` passed. The summary counts every call: succeeded,
 * or failed by code (and how many of those the server provably never ran).
 */

import type { EchoMethod, RequestOf } from '../service/echo-api';
import type { EchoClient } from './echo-client';
import { errorCode } from './echo-client';

export interface LoadOptions<M extends EchoMethod = EchoMethod> {
  readonly method: M;
  readonly request: RequestOf<M>;
  /** Calls in flight at once. */
  readonly concurrency: number;
  /** Stop after this many calls (0: no limit; then `duration` must be set). */
  readonly calls: number;
  /** Stop starting calls after this many ms (0: no limit). */
  readonly duration: number;
  /** Per-call timeout in ms (the client's default when undefined). */
  readonly timeout?: number;
  /** Stops starting calls (the summary counts the calls already made). */
  readonly signal?: AbortSignal;
  /** Called as each call settles, with the number settled so far. */
  readonly onProgress?: (settled: number) => void;
}

export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export interface LoadSummary {
  readonly method: EchoMethod;
  readonly calls: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Failed calls the server did not run (`processed: false`): safe to retry. */
  readonly notProcessed: number;
  /** Failed calls by code: the server's code for a remote error, else the client's. */
  readonly errors: Readonly<Record<string, number>>;
  readonly seconds: number;
  readonly callsPerSecond: number;
  /** Of the calls that succeeded, in ms (all 0 when none did; the text summary then says "none"). */
  readonly latency: LatencySummary;
}

/** The `q` quantile of sorted `values` (nearest rank). */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export async function runLoad(client: EchoClient, options: LoadOptions): Promise<LoadSummary> {
  const limit = options.calls > 0 ? options.calls : Number.POSITIVE_INFINITY;
  const started = performance.now();
  const end = options.duration > 0 ? started + options.duration : Number.POSITIVE_INFINITY;
  const callOptions = options.timeout === undefined ? undefined : { timeout: options.timeout };
  let latencies = new Float64Array(1024);
  let succeeded = 0;
  let issued = 0;
  let settled = 0;
  let notProcessed = 0;
  const errors: Record<string, number> = Object.create(null);

  const caller = async (): Promise<void> => {
    let own = 0;
    while (issued < limit && performance.now() < end && options.signal?.aborted !== true) {
      // Calls that fail fast (no server) settle in microtasks only: give the event loop a turn
      // now and then, or timers, signals and the progress bar would starve.
      if (++own % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
      issued++;
      const callStarted = performance.now();
      try {
        await client.call(options.method, options.request, callOptions);
        if (succeeded === latencies.length) {
          const grown = new Float64Array(latencies.length * 2);
          grown.set(latencies);
          latencies = grown;
        }
        latencies[succeeded++] = performance.now() - callStarted;
      } catch (error) {
        const code = errorCode(error);
        errors[code] = (errors[code] ?? 0) + 1;
        if ((error as { processed?: boolean }).processed === false) notProcessed++;
      }
      settled++;
      options.onProgress?.(settled);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, caller));

  const seconds = (performance.now() - started) / 1000;
  const sorted = latencies.slice(0, succeeded).sort();
  const round = (value: number) => Math.round(value * 1000) / 1000;
  return {
    method: options.method,
    calls: settled,
    succeeded,
    failed: settled - succeeded,
    notProcessed,
    errors: { ...errors },
    seconds: round(seconds),
    callsPerSecond: seconds > 0 ? Math.round(settled / seconds) : 0,
    latency: {
      p50: round(quantile(sorted, 0.5)),
      p90: round(quantile(sorted, 0.9)),
      p99: round(quantile(sorted, 0.99)),
      max: round(sorted.length === 0 ? 0 : sorted[sorted.length - 1]!),
    },
  };
}

/** The summary as a few lines of text. */
export function formatLoadSummary(summary: LoadSummary): string {
  const { latency } = summary;
  const errors = Object.entries(summary.errors)
    .sort(([, a], [, b]) => b - a)
    .map(([code, count]) => `${code} ${count}`)
    .join(', ');
  return [
    `${summary.method}: ${summary.calls} calls in ${summary.seconds.toFixed(2)} s, ${summary.callsPerSecond} calls/s`,
    `succeeded ${summary.succeeded}, failed ${summary.failed} (not processed ${summary.notProcessed})`,
    summary.succeeded === 0
      ? 'latency ms: none (no call succeeded)'
      : `latency ms: p50 ${latency.p50.toFixed(2)}  p90 ${latency.p90.toFixed(2)}  p99 ${latency.p99.toFixed(2)}  max ${latency.max.toFixed(2)}`,
    `errors by code: ${errors === '' ? 'none' : errors}`,
  ].join('\n');
}
