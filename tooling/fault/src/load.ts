/**
 * Bounded, continuous load on an @netpoll/rpc client: `workers` loops, each making one call at a
 * time and pausing `pauseMs` between calls, every fourth call marked idempotent. Every call is
 * recorded — start, end, the endpoint of each attempt (from the client's tracing channel), the
 * host that answered, the error's code and `processed` — so the harness can check
 * deadlines, codes and where failures happened. A call still unsettled when the load stops is
 * reported lost.
 */
import { tracingChannel } from 'node:diagnostics_channel';
import type { RpcClient } from '@netpoll/rpc';

/** One call as the harness analyses it (times: ms on the shared clock, see clock()). */
export interface CallRecord {
  readonly start: number;
  readonly end: number;
  readonly method: string;
  /** Endpoint address of the call's last attempt (null: never sent anywhere). */
  readonly endpoint: string | null;
  /** The endpoint that answered: a success's last attempt (null for a failure). */
  readonly servedBy: string | null;
  readonly code: string | null;
  readonly remoteCode: string | null;
  readonly processed: boolean | null;
  readonly idempotent: boolean;
  readonly timeout: number;
  readonly attempts: number;
  /** The endpoint of each attempt, in order (the last is `endpoint`). */
  readonly endpoints: readonly string[];
}

/** A call that had not settled when the load stopped (must never happen). */
export interface LostCall {
  readonly start: number;
  readonly method: string;
  readonly endpoint: string | null;
  readonly timeout: number;
}

export interface LoadResult {
  readonly records: CallRecord[];
  readonly lost: LostCall[];
  /** The client's event-loop delay while loaded, ms (p99, max). */
  readonly loopDelay: { p99: number; max: number };
}

/** Wall-clock ms with sub-ms precision: comparable between the harness and its hosts. */
export function clock(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The client's trace message of a call. The client sets `endpoint` before each attempt is
 * written (rpc README, "Observability"), so a retry overwrites the first attempt's endpoint;
 * the subscriber turns `endpoint` into an accessor (subscribers may annotate the message) that
 * also appends each endpoint to `endpoints`: where every attempt went, not only the last.
 */
interface Trace {
  endpoint: string | null;
  attempt: number;
  endpoints: string[];
}

let lastTrace: Trace | null = null;
const channel = tracingChannel('netpoll:rpc:client:call');
const noop = (): void => {};
channel.subscribe({
  start: (message) => {
    const trace = message as Trace;
    const endpoints: string[] = [];
    let endpoint = trace.endpoint;
    if (endpoint !== null) endpoints.push(endpoint);
    Object.defineProperty(trace, 'endpoint', {
      get: () => endpoint,
      set: (value: string | null) => {
        endpoint = value;
        if (value !== null) endpoints.push(value);
      },
      enumerable: true,
      configurable: true,
    });
    trace.endpoints = endpoints;
    lastTrace = trace;
  },
  end: noop,
  asyncStart: noop,
  asyncEnd: noop,
  error: noop,
});

interface Pending {
  readonly start: number;
  readonly method: string;
  readonly timeout: number;
  readonly trace: Trace | null;
  readonly done: Promise<void>;
}

export class LoadGenerator {
  readonly #client: RpcClient;
  readonly #records: CallRecord[] = [];
  readonly #pending = new Set<Pending>();
  #running = false;
  #workers: Promise<void>[] = [];
  #n = 0;

  constructor(client: RpcClient) {
    this.#client = client;
  }

  start(workers: number, pauseMs: number, timeout: number): void {
    this.#running = true;
    for (let i = 0; i < workers; i++) this.#workers.push(this.#worker(pauseMs, timeout));
  }

  /** Makes `count` sleep calls of `ms` each with `timeout`, `spacingMs` apart, beside the load. */
  async sleeps(count: number, ms: number, timeout: number, spacingMs: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      void this.call('sleep', { ms }, timeout, false);
      await sleep(spacingMs);
    }
  }

  /** Makes one call and records it; never rejects. */
  call(method: string, request: unknown, timeout: number, idempotent: boolean): Promise<void> {
    const start = clock();
    lastTrace = null;
    let promise: Promise<unknown>;
    try {
      promise = this.#client.call(method, request, { timeout, idempotent });
    } catch (error) {
      promise = Promise.reject(error);
    }
    const trace = lastTrace as Trace | null;
    const entry: Pending = {
      start,
      method,
      timeout,
      trace,
      done: promise.then(
        (reply) => this.#record(entry, idempotent, wrongReply(method, request, reply)),
        (error) => this.#record(entry, idempotent, error),
      ),
    };
    this.#pending.add(entry);
    return entry.done;
  }

  #record(entry: Pending, idempotent: boolean, error: unknown): void {
    this.#pending.delete(entry);
    const failure = error as { code?: unknown; remoteCode?: unknown; processed?: unknown } | null;
    this.#records.push({
      start: entry.start,
      end: clock(),
      method: entry.method,
      endpoint: entry.trace?.endpoint ?? null,
      servedBy: error === null ? (entry.trace?.endpoint ?? null) : null,
      code: failure === null ? null : String(failure?.code ?? `not coded: ${String(error)}`),
      remoteCode: typeof failure?.remoteCode === 'string' ? failure.remoteCode : null,
      processed: typeof failure?.processed === 'boolean' ? failure.processed : null,
      idempotent,
      timeout: entry.timeout,
      attempts: entry.trace?.attempt ?? 0,
      endpoints: entry.trace?.endpoints ?? [],
    });
  }

  async #worker(pauseMs: number, timeout: number): Promise<void> {
    while (this.#running) {
      const n = this.#n++;
      await this.call('echo', { message: `m${n}` }, timeout, n % 4 === 0);
      await sleep(pauseMs);
    }
  }

  /** The records of the calls settled so far (handed over once: the soak collects as it goes). */
  drain(): CallRecord[] {
    return this.#records.splice(0);
  }

  /**
   * Stops making calls and waits for those in flight, at most `waitMs` (longer than any call's
   * timeout plus the slack); those still unsettled then are lost.
   */
  async stop(waitMs: number): Promise<{ records: CallRecord[]; lost: LostCall[] }> {
    this.#running = false;
    const settled = Promise.all([...this.#pending].map((entry) => entry.done));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([settled, new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
    const lost = [...this.#pending].map((entry) => ({
      start: entry.start,
      method: entry.method,
      endpoint: entry.trace?.endpoint ?? null,
      timeout: entry.timeout,
    }));
    if (lost.length === 0) await Promise.all(this.#workers);
    return { records: this.#records.splice(0), lost };
  }
}

/** An `echo` reply that is not the request's message: recorded as an uncoded failure. */
function wrongReply(method: string, request: unknown, reply: unknown): Error | null {
  if (method !== 'echo') return null;
  const sent = (request as { message?: unknown }).message;
  const got = (reply as { message?: unknown } | null)?.message;
  return got === sent ? null : new Error(`echo answered ${JSON.stringify(reply)} to ${sent}`);
}
