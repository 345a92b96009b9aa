/**
 * The metrics plumbing in one thread: the reactor side (startReactorMetrics, fed by the rpc and
 * core diagnostics channels of this thread, where an in-process server runs its calls), the main
 * side (ServerMetrics: server.stats() plus the collected reactor registries), and the operations
 * port that serves them.
 */
import { randomUUID } from 'node:crypto';
import { afterTest } from '@netpoll/jest-config/cleanup';
import { createServer, RpcError, RpcStatus } from '@netpoll/rpc';
import { pino } from 'pino';
import { createEchoClient } from '../src/client/echo-client';
import { startMetricsHttpServer } from '../src/server/metrics-http-server';
import { answeredCode, startReactorMetrics } from '../src/server/reactor-metrics';
import { ServerMetrics } from '../src/server/server-metrics';
import { createEchoService } from '../src/service/echo-service';
import * as tasks from '../src/service/hash-task';
import { httpGet, sample, sum } from './helpers/server-process';

const pool = { run: async (value: unknown) => tasks.hash(value as never) };

async function served() {
  const channelName = `test-metrics-${randomUUID()}`;
  afterTest(startReactorMetrics(channelName));
  const server = createServer(createEchoService({ pool }), { serializer: 'json' });
  afterTest(() => server.close({ timeout: 500 }));
  await server.listen('127.0.0.1:0');
  const metrics = new ServerMetrics({ stats: () => server.stats(), channelName, reactors: 1 });
  afterTest(() => metrics.close());
  const client = createEchoClient(server.address, { connections: 2, timeout: 2000 });
  afterTest(() => client.destroy());
  return { server, metrics, client };
}

describe('answeredCode', () => {
  it('is the code the server answers for a handler error', () => {
    expect(answeredCode(new RpcStatus('NOT_FOUND'))).toBe('NOT_FOUND');
    expect(answeredCode(new RpcError('ERR_NETPOLL_RPC_CLOSED', 'closed'))).toBe(
      'CONNECTION_CLOSED',
    );
    expect(answeredCode(new Error('bug'))).toBe('INTERNAL');
    expect(answeredCode('thrown string')).toBe('INTERNAL');
  });
});

describe('ServerMetrics with this thread as the reactor', () => {
  it('counts calls by method and code, latencies, errors, connections and reactor counters', async () => {
    const { metrics, client } = await served();
    for (let i = 0; i < 5; i++) await client.echo({ message: `m${i}` });
    await client.hash({ data: 'x', rounds: 3 });
    await client.sleep({ ms: 30 });
    await client.sleep({ ms: -1 }).catch(() => undefined);
    await client.call('missing' as 'health', {}).catch(() => undefined);

    const { contentType, body } = await metrics.render();
    expect(contentType).toContain('text/plain');
    expect(sample(body, 'rpc_server_calls_total', { method: 'echo', code: 'OK' })).toBe(5);
    expect(sample(body, 'rpc_server_calls_total', { method: 'hash', code: 'OK' })).toBe(1);
    expect(sample(body, 'rpc_server_calls_total', { method: 'sleep', code: 'OK' })).toBe(1);
    expect(
      sample(body, 'rpc_server_calls_total', { method: 'sleep', code: 'INVALID_ARGUMENT' }),
    ).toBe(1);
    expect(sample(body, 'rpc_server_errors_total', { code: 'UNIMPLEMENTED' })).toBe(1);
    expect(sample(body, 'rpc_server_errors_total', { code: 'INVALID_ARGUMENT' })).toBe(1);
    expect(sample(body, 'rpc_server_call_duration_seconds_count', { method: 'sleep' })).toBe(2);
    // The refused sleep (about 0 ms) is in every bucket, the 30 ms one only from 0.05 s up (from
    // 10 s up for certain: a loaded machine can stretch it past 50 ms).
    expect(
      sample(body, 'rpc_server_call_duration_seconds_bucket', { method: 'sleep', le: '0.025' }),
    ).toBe(1);
    expect(
      sample(body, 'rpc_server_call_duration_seconds_bucket', { method: 'sleep', le: '10' }),
    ).toBe(2);
    expect(
      sample(body, 'rpc_server_call_duration_seconds_sum', { method: 'sleep' }),
    ).toBeGreaterThanOrEqual(0.029);
    expect(sample(body, 'rpc_server_connections')).toBe(2);
    expect(sample(body, 'netpoll_connections_opened_total')).toBe(2);
    expect(sum(body, 'netpoll_reactor_accepts_total')).toBeGreaterThanOrEqual(2);
    expect(sample(body, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);

    // The tally counts what reached a handler (not the refused call), as the shutdown log says.
    expect(metrics.totals()).toEqual({
      calls: { echo: { OK: 5 }, hash: { OK: 1 }, sleep: { OK: 1, INVALID_ARGUMENT: 1 } },
      handled: 8,
      succeeded: 7,
    });
  });

  it('keeps the last tally of each reactor: drained() once every connection has closed', async () => {
    const { metrics, client } = await served();
    await client.echo({ message: 'one' });
    await metrics.render(); // a collect brings the tally: 1 connection open
    expect(await metrics.drained(50)).toBe(false);
    client.destroy();
    expect(await metrics.drained(2000)).toBe(true);
    expect(metrics.totals()).toMatchObject({ handled: 1, succeeded: 1 });
  });

  it('does not let the zeros of a closing server look like counter resets (freeze)', async () => {
    let stats = {
      connections: 1,
      calls: {
        started: 3,
        succeeded: 2,
        failed: 1,
        inFlight: 0,
        errors: { X: 1 } as Record<string, number>,
      },
    };
    const metrics = new ServerMetrics({
      stats: async () => stats as never,
      channelName: `test-metrics-${randomUUID()}`,
      reactors: 0,
      collectTimeout: 10,
    });
    afterTest(() => metrics.close());
    expect(sample((await metrics.render()).body, 'rpc_server_errors_total', { code: 'X' })).toBe(1);
    metrics.freeze();
    stats = {
      connections: 0,
      calls: { started: 0, succeeded: 0, failed: 0, inFlight: 0, errors: {} },
    };
    const frozen = (await metrics.render()).body;
    expect(sample(frozen, 'rpc_server_errors_total', { code: 'X' })).toBe(1);
    expect(sample(frozen, 'rpc_server_connections')).toBe(0); // still current
  });
});

describe('the operations port', () => {
  it('serves /metrics, /ready as told, /live, and refuses the rest', async () => {
    let ready = false;
    let fail = false;
    const logger = pino({ level: 'silent' });
    const http = await startMetricsHttpServer({
      host: '127.0.0.1',
      port: 0,
      logger,
      isReady: () => ready,
      render: async () => {
        if (fail) throw new Error('broken');
        return { contentType: 'text/plain; version=0.0.4', body: 'up 1\n' };
      },
    });
    afterTest(() => http.close());
    expect(http.address).toBe(`127.0.0.1:${http.port}`);
    expect(await httpGet(http.address, '/ready')).toEqual({ status: 503, body: 'not ready\n' });
    ready = true;
    expect(await httpGet(http.address, '/ready')).toEqual({ status: 200, body: 'ready\n' });
    expect(await httpGet(http.address, '/live')).toEqual({ status: 200, body: 'live\n' });
    expect(await httpGet(http.address, '/metrics?x=1')).toEqual({ status: 200, body: 'up 1\n' });
    fail = true;
    expect(await httpGet(http.address, '/metrics')).toEqual({
      status: 500,
      body: 'metrics failed\n',
    });
    expect((await httpGet(http.address, '/')).status).toBe(404);
    const post = await fetch(`http://${http.address}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    await post.text();
  });

  it('rejects when its port is taken', async () => {
    const logger = pino({ level: 'silent' });
    const options = {
      host: '127.0.0.1',
      logger,
      isReady: () => true,
      render: async () => ({ contentType: '', body: '' }),
    };
    const first = await startMetricsHttpServer({ ...options, port: 0 });
    afterTest(() => first.close());
    await expect(startMetricsHttpServer({ ...options, port: first.port })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });
});
