/**
 * Starts the Echo RPC server as configured: the operations port first (so `/ready` answers 503
 * while the reactors start), then the RPC server — `reactors` threads, each loading the service
 * module — and `/ready` turns 200. `close()` is the graceful shutdown: `/ready` turns 503, the
 * server sends GOAWAY and lets calls in flight finish, and the result says how many calls the
 * reactors served, to the last one.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createServer } from '@netpoll/rpc';
import type { Logger } from './logger';
import { joinHostPort, startMetricsHttpServer } from './metrics-http-server';
import type { ServerConfig } from './server-config';
import { ServerMetrics, type TallyTotals } from './server-metrics';
import { publishServiceModuleOptions } from './service-module-options';

/** What a graceful shutdown did. */
export interface ShutdownReport extends TallyTotals {
  /** False when the shutdown was cut short, or a reactor's final tally did not arrive. */
  readonly complete: boolean;
  readonly ms: number;
}

export interface RunningRpcServer {
  /** RPC address, `host:port` with the real port. */
  readonly address: string;
  /** Operations address (`/metrics`, `/ready`, `/live`). */
  readonly metricsAddress: string;
  readonly metrics: ServerMetrics;
  /** Graceful shutdown; aborting `signal` closes what is left at once. Idempotent. */
  close(signal?: AbortSignal): Promise<ShutdownReport>;
}

/** The compiled service module next to this file (each reactor thread imports it). */
export const kServiceModule = join(__dirname, 'service-module.js');

export async function startRpcServer(
  config: ServerConfig,
  logger: Logger,
): Promise<RunningRpcServer> {
  const metricsChannel = `netpoll-echo-metrics-${randomUUID()}`;
  publishServiceModuleOptions({
    hashThreads: config.hashThreads,
    logLevel: config.logLevel,
    metricsChannel,
  });
  const server = createServer(kServiceModule, {
    reactors: config.reactors,
    serializer: 'json',
    shutdownTimeout: config.shutdownTimeout,
  });
  const metrics = new ServerMetrics({
    stats: () => server.stats(),
    channelName: metricsChannel,
    reactors: config.reactors,
  });
  let ready = false;
  const http = await startMetricsHttpServer({
    host: config.host,
    port: config.metricsPort,
    render: () => metrics.render(),
    isReady: () => ready,
    logger,
  });
  try {
    await server.listen(joinHostPort(config.host, config.port));
  } catch (error) {
    await http.close();
    metrics.close();
    throw error;
  }
  ready = true;

  let closing: Promise<ShutdownReport> | null = null;
  const close = async (signal?: AbortSignal): Promise<ShutdownReport> => {
    const started = performance.now();
    ready = false;
    metrics.freeze();
    let complete: boolean;
    try {
      // False when the shutdown timeout closed what was left.
      complete = (await server.close({ signal })).complete;
    } catch (error) {
      if ((error as Error)?.name !== 'AbortError') throw error;
      complete = false;
    }
    complete = (await metrics.drained()) && complete;
    await http.close();
    metrics.close();
    return { ...metrics.totals(), complete, ms: Math.round(performance.now() - started) };
  };
  return {
    address: server.address,
    metricsAddress: http.address,
    metrics,
    close(signal) {
      closing ??= close(signal);
      return closing;
    },
  };
}
