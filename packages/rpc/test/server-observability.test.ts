/**
 * What a server tells about its calls: `server.stats()` (connections; calls started, succeeded,
 * failed by code, in flight; latency count) and the `netpoll:rpc:server:call` tracing channel
 * (`start`, then `asyncEnd` with the result or `error` with the error, one message object per call).
 */
import { tracingChannel } from 'node:diagnostics_channel';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type CallContext, RpcStatus, serverCallChannel } from '../src';
import { afterTest, deferred, startServer, waitInFlight } from './helpers/server';
import { WireClient } from './helpers/wire-client';

describe('server.stats()', () => {
  it('counts calls by outcome, refusals by code, and latencies', async () => {
    const gate = deferred();
    const server = await startServer(
      {
        ok: (request: Buffer) => Buffer.from(request),
        async later(request: Buffer) {
          await gate.promise;
          return Buffer.from(request);
        },
        missing() {
          throw new RpcStatus('NOT_FOUND');
        },
        broken: async () => {
          throw new Error('bug');
        },
      },
      { serializer: 'raw' },
    );
    const empty = await server.stats();
    expect(empty).toEqual({
      connections: 0,
      calls: {
        started: 0,
        succeeded: 0,
        failed: 0,
        inFlight: 0,
        errors: {},
        latency: { count: 0, p50: 0, p90: 0, p99: 0, max: 0 },
      },
    });
    const client = await WireClient.connect(server.address);
    await client.call('ok', 'a');
    await client.call('ok', 'b');
    await client.call('missing', '');
    await client.call('broken', '');
    await client.call('nope', ''); // UNIMPLEMENTED: refused, never started
    const later = client.request('later', '');
    await waitInFlight(server, 1);
    const during = await server.stats();
    expect(during.connections).toBe(1);
    expect(during.calls).toMatchObject({ started: 5, succeeded: 2, failed: 2, inFlight: 1 });
    gate.resolve();
    await client.reply(later);
    await waitInFlight(server, 0);
    const after = await server.stats();
    expect(after.calls).toMatchObject({
      started: 5,
      succeeded: 3,
      failed: 2,
      inFlight: 0,
      errors: { NOT_FOUND: 1, INTERNAL: 1, UNIMPLEMENTED: 1 },
    });
    const latency = after.calls.latency;
    expect(latency.count).toBe(5);
    expect(latency.p50).toBeGreaterThan(0);
    expect(latency.p50).toBeLessThanOrEqual(latency.p90);
    expect(latency.p90).toBeLessThanOrEqual(latency.p99);
    expect(latency.p99).toBeLessThanOrEqual(latency.max);
  });

  it('counts connections as they open and close', async () => {
    const server = await startServer({ ok: (request: Buffer) => Buffer.from(request) });
    const first = await WireClient.connect(server.address);
    const second = await WireClient.connect(server.address);
    await first.call('ok', '');
    await second.call('ok', '');
    expect((await server.stats()).connections).toBe(2);
    first.end();
    await first.ended();
    for (let i = 0; (await server.stats()).connections !== 1; i++) {
      if (i > 2000) throw new Error('the closed connection was never counted out');
      await new Promise((resolve) => setImmediate(resolve));
    }
  });
});

describe('the netpoll:rpc:server:call tracing channel', () => {
  interface Trace {
    method: string;
    request: unknown;
    context: CallContext;
    result?: unknown;
    error?: unknown;
  }

  function subscribe(): Array<[string, Trace, string]> {
    const events: Array<[string, Trace, string]> = [];
    // Snapshot what each event sees: the message object is the same one, annotated as it goes.
    const record = (name: string) => (message: unknown) => {
      const trace = message as Trace;
      events.push([name, trace, JSON.stringify(Object.keys(trace).sort())]);
    };
    const handlers = {
      start: record('start'),
      end: record('end'),
      asyncStart: record('asyncStart'),
      asyncEnd: record('asyncEnd'),
      error: record('error'),
    };
    const channel = tracingChannel('netpoll:rpc:server:call');
    channel.subscribe(handlers);
    afterTest(() => channel.unsubscribe(handlers));
    return events;
  }

  it('is the channel the package exports', () => {
    expect(serverCallChannel.start.name).toBe('tracing:netpoll:rpc:server:call:start');
  });

  it('publishes start, then asyncEnd with the result, on one message per call', async () => {
    const events = subscribe();
    const server = await startServer({
      async echo(request: Buffer) {
        return Buffer.from(`re ${request.toString()}`);
      },
    });
    const client = await WireClient.connect(server.address);
    await client.call('echo', 'hi', { metadata: { tenant: 't1' } });
    await waitInFlight(server, 0);
    expect(events.map(([name, , keys]) => [name, keys])).toEqual([
      ['start', '["context","method","request"]'],
      ['asyncEnd', '["context","method","request","result"]'],
    ]);
    const [, start] = events[0]!;
    const [, end] = events[1]!;
    expect(end).toBe(start);
    expect(start.method).toBe('echo');
    expect(start.context.method).toBe('echo');
    expect(start.context.metadata).toEqual({ tenant: 't1' });
    expect((end.result as Buffer).toString()).toBe('re hi');
  });

  it('publishes start, then error with the error, for a failed call', async () => {
    const events = subscribe();
    const failure = new RpcStatus('NOT_FOUND', 'gone');
    const server = await startServer({
      find() {
        throw failure;
      },
    });
    const client = await WireClient.connect(server.address);
    await client.call('find', 'key');
    await waitInFlight(server, 0);
    expect(events.map(([name, , keys]) => [name, keys])).toEqual([
      ['start', '["context","method","request"]'],
      ['error', '["context","error","method","request"]'],
    ]);
    expect(events[1]![1].error).toBe(failure);
    expect(events[1]![1]).toBe(events[0]![1]);
  });

  it('publishes nothing for a request refused before it started (UNIMPLEMENTED)', async () => {
    const events = subscribe();
    const server = await startServer({ known: () => Buffer.alloc(0) });
    const client = await WireClient.connect(server.address);
    expect((await client.call('unknown', '')).code).toBe('UNIMPLEMENTED');
    expect(events).toEqual([]);
  });

  it("gives asyncEnd subscribers the call's request and result intact, even in debug mode", async () => {
    // Debug mode poisons pooled memory when it is freed: a request freed before the message is
    // published would read as 0xDD here.
    const report = await new Promise<{
      checks?: Array<{ length: number; request: boolean; result: boolean }>;
      error?: string;
    }>((resolve, reject) => {
      const worker = new Worker(join(__dirname, 'fixtures', 'trace-debug.js'), {
        env: { ...process.env, NETPOLL_DEBUG: '1' },
      });
      afterTest(() => worker.terminate());
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    expect(report.error).toBeUndefined();
    expect(report.checks).toEqual([
      { length: 100, request: true, result: true },
      { length: 5000, request: true, result: true },
    ]);
  });
});
