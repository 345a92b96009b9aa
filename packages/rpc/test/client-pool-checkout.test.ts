/**
 * How the pool transport hands its connections out and takes them back: a call that timed out
 * gives its connection back; the balancer skips an endpoint whose connections are all busy; a
 * call that settled while it waited is never sent; a waiting call gets a new connection when the
 * busy one dies; every waiting call fails at its own `acquireTimeout`; `close()` closes the idle
 * connections.
 */
import { type CallContext, Kind } from '../src';
import {
  bytes,
  deferred,
  outcome,
  rejection,
  serverConnections,
  startClient,
  startRawServer,
  startServer,
  until,
  within,
} from './helpers/client-harness';

// The servers run in this process: a stall of the test must not look like a hung peer.
const kLiveness = { pingInterval: 100, pingTimeout: 2000 };

describe('pool checkout and checkin', () => {
  it('a call that timed out gives its connection back: with maxActive 1 the next call runs', async () => {
    const release = deferred<Buffer>();
    const peers: string[] = [];
    const server = await startServer({
      slow: (_request: Buffer, context: CallContext) => {
        peers.push(context.remoteAddress);
        return release.promise;
      },
      quick: (request: Buffer, context: CallContext) => {
        peers.push(context.remoteAddress);
        return Buffer.from(request);
      },
    });
    const client = startClient(server.address, {
      ...kLiveness,
      transport: 'pool',
      pool: { maxActive: 1, acquireTimeout: 1000 },
    });
    const timedOut = await rejection(client.call('slow', bytes('x'), { timeout: 50 }));
    expect(timedOut.code).toBe('ERR_NETPOLL_RPC_TIMEOUT');
    expect(String(await client.call('quick', bytes('next')))).toBe('next');
    // On the same connection: given back, not closed and replaced by a new one.
    expect(peers).toHaveLength(2);
    expect(peers[1]).toBe(peers[0]);
    expect(client.stats().endpoints[0]).toMatchObject({ pending: 0, waiting: 0 });
    release.resolve(bytes('late'));
  });

  it('sends calls to the endpoint with a free connection, not to one whose maxActive are busy', async () => {
    const gate = deferred<Buffer>();
    const handlers = {
      hold: () => gate.promise,
      quick: (request: Buffer) => Buffer.from(request),
    };
    const a = await startServer(handlers);
    const b = await startServer(handlers);
    const client = startClient([a.address, b.address], {
      ...kLiveness,
      transport: 'pool',
      pool: { maxActive: 1, acquireTimeout: 300 },
    });
    const held = outcome(client.call('hold', bytes('')));
    await until(
      () =>
        client.stats().calls.inFlight === 1 &&
        client.stats().endpoints.some((e) => e.pending === 1),
      'one call held',
    );
    // Round-robin would send every other call to the busy endpoint, to wait there and fail.
    for (let i = 0; i < 4; i++) {
      expect(String(await client.call('quick', bytes(`${i}`)))).toBe(`${i}`);
    }
    expect(client.stats().calls.errors).toEqual({});
    gate.resolve(bytes('done'));
    expect(await held).toMatchObject({ ok: true, value: bytes('done') });
  });

  it('never sends a waiting call that was aborted before a connection came free', async () => {
    const seen: string[] = [];
    const gate = deferred<Buffer>();
    const server = await startServer({
      hold: (request: Buffer) => {
        seen.push(String(request));
        return gate.promise;
      },
    });
    const client = startClient(server.address, {
      ...kLiveness,
      transport: 'pool',
      pool: { maxActive: 1, acquireTimeout: 5000 },
    });
    const running = outcome(client.call('hold', bytes('running')));
    await until(() => seen.length === 1, 'the first call running');
    const controller = new AbortController();
    const waiting = rejection(client.call('hold', bytes('aborted'), { signal: controller.signal }));
    controller.abort();
    expect(await waiting).toMatchObject({ code: 'ERR_NETPOLL_RPC_CANCELED', processed: false });
    gate.resolve(bytes('done'));
    expect(await running).toMatchObject({ ok: true, value: bytes('done') });
    // The freed connection goes to the next live call, not to the aborted one.
    expect(String(await client.call('hold', bytes('after')))).toBe('done');
    expect(seen).toEqual(['running', 'after']);
  });

  it("sends none of the waiting calls that share the running call's signal when it aborts", async () => {
    const seen: string[] = [];
    const server = await startServer({
      hold: (request: Buffer) => {
        seen.push(String(request));
        return new Promise<Buffer>(() => {});
      },
    });
    const client = startClient(server.address, {
      ...kLiveness,
      transport: 'pool',
      pool: { maxActive: 1, acquireTimeout: 5000 },
    });
    const controller = new AbortController();
    const calls = ['A', 'B', 'C', 'D'].map((name) =>
      rejection(client.call('hold', bytes(name), { signal: controller.signal })),
    );
    await until(() => seen.length === 1, 'A running');
    controller.abort();
    const errors = await Promise.all(calls);
    expect(errors.map((error) => [error.code, error.processed])).toEqual([
      ['ERR_NETPOLL_RPC_CANCELED', true],
      ['ERR_NETPOLL_RPC_CANCELED', false],
      ['ERR_NETPOLL_RPC_CANCELED', false],
      ['ERR_NETPOLL_RPC_CANCELED', false],
    ]);
    // The connection is idle again, and only A ever reached the server.
    await client.call('hold', bytes('E'), { timeout: 50 }).catch(() => {});
    expect(seen).toEqual(['A', 'E']);
  });

  it('gives a waiting call a new connection when the busy one dies', async () => {
    const raw = await startRawServer((connection, message) => {
      if (message.kind !== Kind.REQUEST) return;
      if (connection === raw.connections[0]) connection.socket.destroy();
      else connection.send({ kind: Kind.RESPONSE, seq: message.seq, payload: message.payload });
    });
    const client = startClient(raw.address, {
      transport: 'pool',
      pool: { maxActive: 1, acquireTimeout: 5000 },
    });
    const first = outcome(client.call('m', bytes('first')));
    const second = outcome(client.call('m', bytes('second')));
    expect(await first).toMatchObject({
      ok: false,
      error: { code: 'ERR_NETPOLL_RPC_UNAVAILABLE' },
    });
    // Not after acquireTimeout with POOL_EXHAUSTED: the dead connection's place is dialed again.
    expect(await within(second, 4000, 'the waiting call')).toMatchObject({
      ok: true,
      value: bytes('second'),
    });
    expect(raw.connections).toHaveLength(2);
  });

  it('fails every waiting call at its own acquireTimeout, not only the first', async () => {
    const gate = deferred<Buffer>();
    const server = await startServer({ hold: () => gate.promise });
    const client = startClient(server.address, {
      ...kLiveness,
      transport: 'pool',
      pool: { maxActive: 1, acquireTimeout: 100 },
      timeout: 0,
    });
    const running = outcome(client.call('hold', bytes('')));
    const startedA = performance.now();
    const a = rejection(client.call('hold', bytes('')));
    await new Promise((resolve) => setTimeout(resolve, 40));
    const startedB = performance.now();
    const b = rejection(client.call('hold', bytes('')));
    expect((await within(a, 2000, 'the first waiting call')).code).toBe(
      'ERR_NETPOLL_RPC_POOL_EXHAUSTED',
    );
    const failedA = performance.now();
    expect((await within(b, 2000, 'the second waiting call')).code).toBe(
      'ERR_NETPOLL_RPC_POOL_EXHAUSTED',
    );
    // Each waited its own 100 ms (timers never fire early; the 1 ms is rounding).
    expect(failedA - startedA).toBeGreaterThanOrEqual(99);
    expect(performance.now() - startedB).toBeGreaterThanOrEqual(99);
    gate.resolve(bytes(''));
    expect(await running).toMatchObject({ ok: true });
  });

  it('close() closes the idle connections, on both sides', async () => {
    const server = await startServer({ echo: (request: Buffer) => Buffer.from(request) });
    const client = startClient(server.address, { transport: 'pool' });
    await Promise.all([client.call('echo', bytes('a')), client.call('echo', bytes('b'))]);
    await serverConnections(server, 2);
    await client.close();
    expect(client.stats().endpoints.map((endpoint) => endpoint.connections)).toEqual([0]);
    await serverConnections(server, 0);
  });
});
