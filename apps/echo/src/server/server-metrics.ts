/**
 * The server's Prometheus metrics, as the main thread serves them on `/metrics`: its own
 * (process metrics, and what `server.stats()` sums over the reactors: connections, calls in
 * flight, every error code the server answered — refusals included) plus each reactor's registry
 * (reactor-metrics.ts), collected over a BroadcastChannel and summed with prom-client's
 * `AggregatorRegistry.aggregate`. It also keeps the reactors' call tallies, which give the exact
 * count of calls served up to the end of a graceful shutdown.
 */
import { BroadcastChannel } from 'node:worker_threads';
import type { ServerStats } from '@netpoll/rpc';
import {
  AggregatorRegistry,
  Counter,
  collectDefaultMetrics,
  Gauge,
  Registry as PromRegistry,
  type Registry,
} from 'prom-client';
import type { CallTally, MetricsJson, MetricsMessage, ReactorTally } from './metrics-messages';

export interface ServerMetricsOptions {
  /** Where the call counters come from: `RpcServer.stats()`. */
  readonly stats: () => Promise<ServerStats>;
  /** The channel the reactors answer on (`startReactorMetrics`). */
  readonly channelName: string;
  /** Reactor threads to wait for when collecting. */
  readonly reactors: number;
  /** How long a collect waits for the reactors (a busy or restarting one is left out). */
  readonly collectTimeout?: number;
}

/** Calls served, summed over the reactors' latest tallies. */
export interface TallyTotals {
  /** By method, then by code (`OK` for a success). */
  readonly calls: CallTally;
  /** All calls that reached a handler, and those that succeeded. */
  readonly handled: number;
  readonly succeeded: number;
}

export class ServerMetrics {
  readonly #options: ServerMetricsOptions;
  readonly #registry = new PromRegistry();
  readonly #channel: BroadcastChannel;
  readonly #tallies = new Map<number, ReactorTally>();
  readonly #pending = new Map<number, (reply: MetricsJson | null) => void>();
  #nextId = 1;
  #stats: ServerStats | null = null;
  #frozen = false;
  readonly #connections: Gauge;
  readonly #inFlight: Gauge;
  readonly #errors: Counter<'code'>;

  constructor(options: ServerMetricsOptions) {
    this.#options = options;
    const registers = [this.#registry];
    collectDefaultMetrics({ register: this.#registry });
    this.#connections = new Gauge({
      name: 'rpc_server_connections',
      help: 'open server connections (server.stats())',
      registers,
    });
    this.#inFlight = new Gauge({
      name: 'rpc_server_calls_in_flight',
      help: 'calls running now (server.stats())',
      registers,
    });
    this.#errors = new Counter({
      name: 'rpc_server_errors_total',
      help: 'errors the server answered or saw, by code: failed calls, refused requests (UNIMPLEMENTED, DEADLINE_EXCEEDED on arrival, INVALID_ARGUMENT) and connection errors (server.stats())',
      labelNames: ['code'],
      registers,
    });
    this.#channel = new BroadcastChannel(options.channelName);
    this.#channel.unref();
    this.#channel.onmessage = (event: unknown) =>
      this.#receive((event as { data: MetricsMessage }).data);
  }

  /**
   * Stop refreshing the stats-based metrics: once `close()` began, `server.stats()` of a
   * multi-reactor server answers zeros, which would look like counter resets. Connections are
   * still read (they stay current).
   */
  freeze(): void {
    this.#frozen = true;
  }

  /** The `/metrics` body and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    const [stats, reactors] = await Promise.all([this.#options.stats(), this.#collect()]);
    if (!this.#frozen || this.#stats === null) this.#stats = stats;
    const calls = this.#stats.calls;
    this.#connections.set(stats.connections);
    this.#inFlight.set(calls.inFlight);
    this.#errors.reset();
    for (const [code, count] of Object.entries(calls.errors)) this.#errors.inc({ code }, count);
    const own = await this.#registry.getMetricsAsJSON();
    const merged: Registry = AggregatorRegistry.aggregate([own, ...reactors]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }

  /** The reactors' tallies summed: every call that reached a handler, by method and code. */
  totals(): TallyTotals {
    const calls: CallTally = Object.create(null);
    let handled = 0;
    let succeeded = 0;
    for (const tally of this.#tallies.values()) {
      for (const [method, byCode] of Object.entries(tally.calls)) {
        calls[method] ??= Object.create(null) as Record<string, number>;
        const sum = calls[method]!;
        for (const [code, count] of Object.entries(byCode)) {
          sum[code] = (sum[code] ?? 0) + count;
          handled += count;
          if (code === 'OK') succeeded += count;
        }
      }
    }
    return { calls, handled, succeeded };
  }

  /**
   * After the server closed: waits until every reactor's last tally says it has no connection
   * left (each pushes one as a connection closes, so its last push counts every call it served),
   * at most `timeout` ms. Returns whether they all did.
   */
  async drained(timeout = 1000): Promise<boolean> {
    const deadline = performance.now() + timeout;
    const done = () => [...this.#tallies.values()].every((tally) => tally.connections === 0);
    while (!done()) {
      if (performance.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return true;
  }

  close(): void {
    this.#channel.close();
    for (const resolve of [...this.#pending.values()]) resolve(null);
  }

  #receive(message: MetricsMessage): void {
    if (message.type === 'collect') return;
    // One reactor's messages arrive in the order it sent them: the latest tally is its newest.
    this.#tallies.set(message.tally.reactor, message.tally);
    if (message.type === 'metrics') this.#pending.get(message.id)?.(message.metrics);
  }

  /** Each reactor's registry as JSON: every one that answers within the collect timeout. */
  #collect(): Promise<MetricsJson[]> {
    const id = this.#nextId++;
    const replies: MetricsJson[] = [];
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.#pending.delete(id);
        resolve(replies);
      };
      const timer = setTimeout(finish, this.#options.collectTimeout ?? 1000);
      this.#pending.set(id, (metrics) => {
        if (metrics === null) return finish();
        replies.push(metrics);
        if (replies.length === this.#options.reactors) finish();
      });
      this.#channel.postMessage({ type: 'collect', id } satisfies MetricsMessage);
    });
  }
}
