/**
 * The operations port: `GET /metrics` (Prometheus text format), `GET /ready` (200 while the RPC
 * server accepts calls, 503 while it starts or drains — what a load balancer or Kubernetes
 * readiness probe polls) and `GET /live` (200 while the process runs). Plain node:http: it
 * serves a scrape every few seconds, not the traffic.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './logger';

export interface MetricsHttpServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly render: () => Promise<{ contentType: string; body: string }>;
  readonly isReady: () => boolean;
  readonly logger: Logger;
}

export interface MetricsHttpServer {
  /** `host:port` with the real port (`[::1]:9464` for IPv6). */
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** `host:port`, with brackets around an IPv6 host. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export async function startMetricsHttpServer(
  options: MetricsHttpServerOptions,
): Promise<MetricsHttpServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/ready') {
      const ready = options.isReady();
      response.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' });
      response.end(ready ? 'ready\n' : 'not ready\n');
      return;
    }
    if (path === '/live') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('live\n');
      return;
    }
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    options.render().then(
      ({ contentType, body }) => {
        response.writeHead(200, { 'content-type': contentType }).end(body);
      },
      (error: unknown) => {
        options.logger.error({ err: error }, 'metrics failed');
        response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: joinHostPort(options.host, port),
    port,
    async close() {
      // Scrapers keep connections alive: end them, or close() would wait for their timeout.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
