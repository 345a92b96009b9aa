/**
 * The pool transport: one call per connection at a time, at most `maxActive` connections busy
 * (then calls wait up to `acquireTimeout`, first come first served, and fail with
 * ERR_NETPOLL_RPC_POOL_EXHAUSTED), idle connections capped by `maxIdle` and closed after
 * `maxIdleTime`, and a connection the server closed while idle never used again.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type CallContext, encodeMessage, Kind } from '../src';
import {
  afterTest,
  bytes,
  closedPort,
  deferred,
  delay,
  outcome,
  rejection,
  serverConnections,
  startClient,
  startRawServer,
  startServer,
  until,
} from './helpers/client-harness';

/** A server whose `hold` calls wait until released; it tracks calls per connection. */
async function holdingServer() {
  const waiting: Array<{ request: string; release: () => void }> = [];
  const running = new Map<string, number>();
  const seen = new Set<string>();
  let maxPerConnection = 0;
  const server = await startServer({
    hold: (request: Buffer, context: CallContext) => {
      const key = context.remoteAddress;
      seen.add(key);
      running.set(key, (running.get(key) ?? 0) + 1);
      maxPerConnection = Math.max(maxPerConnection, running.get(key)!);
      const text = request.toString();
      return new Promise<Buffer>((resolve) => {
        waiting.push({
          request: text,
          release: () => {
            running.set(key, running.get(key)! - 1);
            resolve(bytes(`done ${text}`));
          },
        });
      });
    },
    quick: (request: Buffer) => Buffer.from(request),
  });
  return {
    server,
    waiting,
    seen,
    get maxPerConnection() {
      return maxPerConnection;
    },
    releaseAll() {
      for (const entry of waiting.splice(0)) entry.release();
    },
  };
}

describe('pool transport', () => {
  it('runs one call per connection at a time, on at most maxActive connections', async () => {
    const held = await holdingServer();
    const client = startClient(held.server.address, {
      transport: 'pool',
      pool: { maxActive: 3, acquireTimeout: 5000 },
    });
    const calls = Array.from({ length: 9 }, (_, i) => client.call('hold', bytes(`${i}`)));
    for (let round = 0; round < 3; round++) {
      await until(() => held.waiting.length === 3, `round ${round}: three calls running`);
      // Three busy connections, six calls waiting at the endpoint.
      expect((await held.server.stats()).connections).toBe(3);
      expect(client.stats().endpoints[0]).toMatchObject({ connections: 3 });
      held.releaseAll();
      await delay(0);
    }
    expect((await Promise.all(calls)).map(String)).toEqual(
      Array.from({ length: 9 }, (_, i) => `done ${i}`),
    );
    expect(held.maxPerConnection).toBe(1);
    expect(held.seen.size).toBe(3);
    expect((await held.server.stats()).connections).toBe(3);
  });

  it('fails a call that found no free connection within acquireTimeout with ERR_NETPOLL_RPC_POOL_EXHAUSTED', async () => {
    const held = await holdingServer();
    const client = startClient(held.server.address, {
      transport: 'pool',
      pool: { maxActive: 2, acquireTimeout: 100 },
    });
    const first = client.call('hold', bytes('1'));
    const second = client.call('hold', bytes('2'));
    await until(() => held.waiting.length === 2, 'two calls running');
    const started = performance.now();
    const error = await rejection(client.call('hold', bytes('3')));
    expect(performance.now() - started).toBeGreaterThanOrEqual(99);
    expect(error.code).toBe('ERR_NETPOLL_RPC_POOL_EXHAUSTED');
    expect(error.processed).toBe(false);
    expect(error.message).toBe(
      `no connection to ${held.server.address} was free within 100 ms (maxActive 2)`,
    );
    held.releaseAll();
    expect((await Promise.all([first, second])).map(String)).toEqual(['done 1', 'done 2']);
    // The exhausted call never reached the server.
    expect(held.seen.size).toBe(2);
    expect(client.stats().calls.errors).toEqual({ ERR_NETPOLL_RPC_POOL_EXHAUSTED: 1 });
  });

  it('hands a freed connection to the calls waiting for it, first come first served', async () => {
    const held = await holdingServer();
    const client = startClient(held.server.address, {
      transport: 'pool',
      pool: { maxActive: 1, acquireTimeout: 5000 },
    });
    const calls = Array.from({ length: 4 }, (_, i) => client.call('hold', bytes(`${i}`)));
    for (let i = 0; i < 4; i++) {
      await until(() => held.waiting.length === 1, `call ${i} running`);
      expect(held.waiting[0]!.request).toBe(`${i}`);
      held.releaseAll();
    }
    expect((await Promise.all(calls)).map(String)).toEqual([
      'done 0',
      'done 1',
      'done 2',
      'done 3',
    ]);
    expect(held.seen.size).toBe(1);
  });

  it('keeps at most maxIdle idle connections and closes the others as they come back', async () => {
    const held = await holdingServer();
    const client = startClient(held.server.address, {
      transport: 'pool',
      pool: { maxActive: 4, maxIdle: 1 },
    });
    const calls = Array.from({ length: 4 }, (_, i) => client.call('hold', bytes(`${i}`)));
    await until(() => held.waiting.length === 4, 'four calls running');
    expect((await held.server.stats()).connections).toBe(4);
    held.releaseAll();
    await Promise.all(calls);
    expect(client.stats().endpoints[0]!.connections).toBe(1);
    await serverConnections(held.server, 1);
    // The one kept serves the next call.
    expect(String(await client.call('quick', bytes('again')))).toBe('again');
    expect((await held.server.stats()).connections).toBe(1);
  });

  it('gives a connection back once a one-way request on it is written', async () => {
    const seen: string[] = [];
    const server = await startServer({
      note: (request: Buffer) => {
        seen.push(String(request));
      },
      quick: (request: Buffer) => Buffer.from(request),
    });
    const client = startClient(server.address, {
      transport: 'pool',
      pool: { maxActive: 1, maxIdle: 1, acquireTimeout: 200 },
    });
    for (let i = 0; i < 5; i++) {
      await client.oneWay('note', bytes(`note ${i}`));
      expect(String(await client.call('quick', bytes(`call ${i}`)))).toBe(`call ${i}`);
    }
    // Several one-way calls at once queue for the one connection and all go out on it.
    await Promise.all([5, 6, 7].map((i) => client.oneWay('note', bytes(`note ${i}`))));
    expect(String(await client.call('quick', bytes('last')))).toBe('last');
    expect(seen).toEqual(Array.from({ length: 8 }, (_, i) => `note ${i}`));
    expect(client.stats().endpoints[0]!.connections).toBe(1);
    expect((await server.stats()).connections).toBe(1);
  });

  it('moves the calls waiting for a connection on when it stops taking calls (server shutdown)', async () => {
    // In a worker, stopped after 10 s: calls that spin its event loop must fail the test, not hang it.
    const worker = new Worker(join(__dirname, 'fixtures', 'pool-goaway-waiting.js'));
    afterTest(() => worker.terminate());
    const report = await new Promise<{ settled?: string[]; elapsed?: number; error?: string }>(
      (resolve, reject) => {
        const timer = setTimeout(() => resolve({ error: 'no answer within 10 s' }), 10_000);
        worker.once('message', (message) => {
          clearTimeout(timer);
          resolve(message);
        });
        worker.once('error', reject);
      },
    );
    expect(report.error).toBeUndefined();
    // The first call is answered; the server read no other: they fail as never processed (its
    // listener is closed, so a new connection is refused), long before their 8 s timeout.
    expect(report.settled).toEqual([
      'ok 1',
      'ERR_NETPOLL_RPC_UNAVAILABLE processed=false',
      'ERR_NETPOLL_RPC_UNAVAILABLE processed=false',
    ]);
    expect(report.elapsed).toBeLessThan(4000);
  });

  it('tells the server a canceled call is given up, even when its connection then closes', async () => {
    const running = deferred();
    const aborted = deferred<string>();
    const server = await startServer({
      slow: (_request: Buffer, context: CallContext) =>
        new Promise<Buffer>((resolve) => {
          running.resolve();
          const timer = setTimeout(() => resolve(bytes('late')), 5000);
          context.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            aborted.resolve((context.signal.reason as { code: string }).code);
            resolve(bytes('aborted'));
          });
        }),
    });
    // maxIdle 0: the connection is closed as soon as the call leaves it.
    const client = startClient(server.address, {
      transport: 'pool',
      pool: { maxActive: 2, maxIdle: 0 },
    });
    const controller = new AbortController();
    const call = client.call('slow', bytes('x'), { signal: controller.signal });
    await running.promise;
    controller.abort();
    expect((await rejection(call)).code).toBe('ERR_NETPOLL_RPC_CANCELED');
    const outcome = await Promise.race([aborted.promise, delay(3000).then(() => 'not aborted')]);
    expect(outcome).toBe('CANCELLED');
  });

  it('closes a connection idle for maxIdleTime', async () => {
    const raw = await startRawServer((connection, message) => {
      if (message.kind === Kind.REQUEST) {
        connection.send({ kind: Kind.RESPONSE, seq: message.seq, payload: message.payload });
      }
    });
    const client = startClient(raw.address, {
      transport: 'pool',
      pool: { maxIdleTime: 150 },
      // Upkeep (pings, idle eviction) runs every pingTimeout / 2.
      pingTimeout: 100,
    });
    expect(String(await client.call('m', bytes('x')))).toBe('x');
    const idleFrom = performance.now();
    expect(client.stats().endpoints[0]!.connections).toBe(1);
    await raw.connections[0]!.closed;
    // Not before it was idle that long.
    expect(performance.now() - idleFrom).toBeGreaterThanOrEqual(149);
    expect(raw.connections[0]!.requests()).toHaveLength(1);
    await until(() => client.stats().endpoints[0]!.connections === 0, 'the pool dropped it');
    // The next call dials a new one.
    expect(String(await client.call('m', bytes('y')))).toBe('y');
    expect(raw.connections).toHaveLength(2);
  });

  it('never uses a connection the server closed while it sat idle: the call gets a fresh one', async () => {
    const raw = await startRawServer((connection, message) => {
      if (message.kind === Kind.REQUEST) {
        connection.send({ kind: Kind.RESPONSE, seq: message.seq, payload: message.payload });
      }
    });
    const client = startClient(raw.address, { transport: 'pool' });
    expect(String(await client.call('m', bytes('first')))).toBe('first');
    const first = raw.connections[0]!;
    first.socket.destroy();
    await first.closed;
    await until(() => client.stats().endpoints[0]!.connections === 0, 'the client saw the close');
    const result = await outcome(client.call('m', bytes('second')));
    expect(result).toMatchObject({ ok: true, value: bytes('second') });
    expect(raw.connections).toHaveLength(2);
    expect(first.requests()).toHaveLength(1);
    expect(raw.connections[1]!.requests().map((request) => String(request.payload))).toEqual([
      'second',
    ]);
  });

  it('never reuses a connection whose reply was marked CLOSING, even when the next call follows at once', async () => {
    // The first connection's reply says CLOSING and comes with the server's FIN; the next call
    // is made as soon as the first resolves.
    const raw = await startRawServer((connection, message) => {
      if (message.kind !== Kind.REQUEST) return;
      const first = connection === raw.connections[0];
      const reply = encodeMessage({
        kind: Kind.RESPONSE,
        seq: message.seq,
        closing: first,
        payload: message.payload,
      });
      if (first) connection.socket.end(reply);
      else connection.socket.write(reply);
    });
    const client = startClient(raw.address, { transport: 'pool' });
    const second = client.call('m', bytes('first')).then(() => client.call('m', bytes('second')));
    expect(await outcome(second)).toMatchObject({ ok: true, value: bytes('second') });
    expect(raw.connections).toHaveLength(2);
    expect(raw.connections[0]!.requests()).toHaveLength(1);
  });

  it('an endpoint backing off after a failed dial is not ready: calls go to the live one at once', async () => {
    const live = await startServer({ echo: (request: Buffer) => request });
    const client = startClient([await closedPort(), live.address], {
      transport: 'pool',
      backoffInitial: 5000,
      backoffMax: 5000,
      timeout: 10_000,
    });
    const results = [];
    for (let i = 0; i < 6; i++) {
      const started = performance.now();
      const result = await outcome(client.call('echo', bytes(`${i}`)));
      results.push(result.ok ? String(result.value) : result.error.code);
      // The first call may wait for the refused dial (then goes to the live one); none waits for
      // its deadline at the endpoint that backs off.
      expect(performance.now() - started).toBeLessThan(2500);
    }
    expect(results).toEqual(['0', '1', '2', '3', '4', '5']);
    const dead = client.stats().endpoints[0]!;
    expect(dead).toMatchObject({ failures: 1, waiting: 0, pending: 0 });
  });

  it('stops counting calls that settled while waiting for a connection', async () => {
    const held = await holdingServer();
    const client = startClient(held.server.address, {
      transport: 'pool',
      pool: { maxActive: 1, acquireTimeout: 5000 },
      pingInterval: 100,
      pingTimeout: 2000, // the server is this process: a stall must not look like a hung peer
    });
    const running = client.call('hold', bytes('running'));
    await until(() => held.waiting.length === 1, 'a call running');
    const waiting = Array.from({ length: 5 }, (_, i) =>
      rejection(client.call('hold', bytes(`${i}`), { timeout: 50 })),
    );
    for (const error of await Promise.all(waiting)) {
      expect(error.code).toBe('ERR_NETPOLL_RPC_TIMEOUT');
    }
    await until(
      () => client.stats().endpoints[0]!.waiting === 0,
      'the timed-out calls gone from the queue',
      2000,
    );
    expect(client.stats().endpoints[0]).toMatchObject({ pending: 1, waiting: 0 });
    expect(client.stats().calls.inFlight).toBe(1);
    held.releaseAll();
    expect(String(await running)).toBe('done running');
  });

  it('works over a Unix socket', async () => {
    const server = await startServer(
      { echo: (request: Buffer) => Buffer.from(request) },
      undefined,
      'unix',
    );
    const client = startClient(server.address, { transport: 'pool', pool: { maxActive: 2 } });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => client.call('echo', bytes(`${i}`))),
    );
    expect(results.map(String)).toEqual(Array.from({ length: 10 }, (_, i) => `${i}`));
    expect((await server.stats()).connections).toBeLessThanOrEqual(2);
  });
});
