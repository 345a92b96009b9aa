/**
 * Deadlines: a call fails with ERR_NETPOLL_RPC_TIMEOUT at its timeout, the server gets the time
 * left (and its handler's signal aborts), a call that times out sends CANCEL and its late reply is
 * dropped, and no call outlives its deadline — not against a server that never answers, not while
 * the resolver has not answered, and not when no endpoint is reachable (then it fails fast with
 * ERR_NETPOLL_RPC_UNAVAILABLE instead).
 */
import { dialConnection } from '@netpoll/core';
import { type CallContext, type ClientOptions, Kind, type Resolver, RpcError } from '../src';
import { ClientConnection } from '../src/client/client-connection';
import { resolveClientOptions } from '../src/options';
import {
  afterTest,
  answerPings,
  bytes,
  closedPort,
  deferred,
  outcome,
  rejection,
  startClient,
  startRawServer,
  startServer,
  tempSocketPath,
  until,
  within,
} from './helpers/client-harness';
import { makeCall, recordingHost } from './helpers/connection-harness';

describe('client deadlines', () => {
  it('fails a call at its timeout with ERR_NETPOLL_RPC_TIMEOUT; the handler saw the time left and its signal aborts', async () => {
    const seen = deferred<{ remaining: number; aborted: string }>();
    const server = await startServer({
      wait: (_request: Buffer, context: CallContext) => {
        const remaining = context.timeRemaining();
        return new Promise<Buffer>((_resolve, reject) => {
          context.signal.addEventListener('abort', () => {
            seen.resolve({ remaining, aborted: (context.signal.reason as { code: string }).code });
            reject(context.signal.reason);
          });
        });
      },
    });
    const client = startClient(server.address, { timeout: 10000 });
    const started = performance.now();
    const error = await rejection(client.call('wait', bytes(''), { timeout: 300 }));
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(RpcError);
    expect(error.code).toBe('ERR_NETPOLL_RPC_TIMEOUT');
    expect(error.message).toBe('call wait timed out after 300 ms');
    expect(error.processed).toBe(true);
    // Not before its deadline (timer granularity: 1 ms).
    expect(elapsed).toBeGreaterThanOrEqual(299);
    const { remaining, aborted } = await within(seen.promise, 5000, 'the abort at the server');
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(300);
    // Whichever the server noticed first: its own deadline or the client's CANCEL.
    expect(['DEADLINE_EXCEEDED', 'CANCELLED']).toContain(aborted);
    expect(client.stats().calls.errors).toEqual({ ERR_NETPOLL_RPC_TIMEOUT: 1 });
  });

  it('uses the client timeout when the call gives none', async () => {
    const raw = await startRawServer();
    const client = startClient(raw.address, { timeout: 150 });
    const error = await rejection(client.call('m', bytes('')));
    expect(error.code).toBe('ERR_NETPOLL_RPC_TIMEOUT');
    expect(error.message).toBe('call m timed out after 150 ms');
    const [request] = raw.requests();
    expect(request?.timeout).toBeLessThanOrEqual(150);
  });

  it('sends at most the timeout as the time left, never a ms more', async () => {
    const sent: number[] = [];
    const server = await startServer({
      remaining: (_request: Buffer, context: CallContext) => {
        sent.push(context.timeRemaining());
        return bytes('');
      },
    });
    const client = startClient(server.address);
    for (const timeout of [200, 1000, 2000, 3000, 7777]) {
      await client.call('remaining', bytes(''), { timeout });
      expect(sent.pop()).toBeLessThanOrEqual(timeout);
    }
  });

  it('rounds the time left up to whole ms, and sends at least 1 ms once the deadline is near or past', () => {
    const { call } = makeCall('m', bytes(''), false, 1000);
    expect(call.timeLeft(call.startedAt)).toBe(1000);
    expect(call.timeLeft(call.startedAt + 0.3)).toBe(1000);
    expect(call.timeLeft(call.startedAt + 0.7)).toBe(1000);
    expect(call.timeLeft(call.startedAt + 998.6)).toBe(2);
    expect(call.timeLeft(call.startedAt + 999.5)).toBe(1);
    // Never a ms more than the timeout through a float's last bit (1000.0000000001 is 1000).
    expect(call.timeLeft(call.deadline - 1000.0000000001)).toBe(1000);
    // 0 on the wire means "no deadline": a call out of time must not send it.
    expect(call.timeLeft(call.startedAt + 1000.5)).toBe(1);
    expect(call.timeLeft(call.startedAt + 5000)).toBe(1);
    expect(makeCall('m', bytes('')).call.timeLeft(performance.now())).toBe(0);
  });

  it('sends the time left, not the timeout: a call that waited for the resolver carries less', async () => {
    const raw = await startRawServer();
    let update: ((addresses: readonly string[]) => void) | null = null;
    const resolver: Resolver = {
      start: (onUpdate) => {
        update = onUpdate;
      },
      close: () => {},
    };
    const client = startClient(resolver);
    const call = outcome(client.call('m', bytes('x'), { timeout: 5000 }));
    const waitedFrom = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const waited = performance.now() - waitedFrom;
    update!([raw.address]);
    const connection = await raw.connection(0);
    const [request] = await connection.received(1);
    expect(request?.kind).toBe(Kind.REQUEST);
    expect(request?.timeout).toBeGreaterThanOrEqual(1);
    expect(request?.timeout).toBeLessThanOrEqual(Math.ceil(5000 - waited));
    connection.send({ kind: Kind.RESPONSE, seq: request!.seq, payload: bytes('y') });
    expect(await call).toMatchObject({ ok: true, value: bytes('y') });
  });

  it('sends no deadline for timeout 0', async () => {
    const raw = await startRawServer((connection, message) => {
      if (message.kind === Kind.REQUEST) {
        connection.send({ kind: Kind.RESPONSE, seq: message.seq, payload: bytes('ok') });
      }
    });
    const client = startClient(raw.address, { timeout: 0 });
    await client.call('m', bytes(''));
    await client.call('m', bytes(''), { timeout: 200 });
    const [first, second] = raw.requests();
    expect(first?.timeout).toBeUndefined();
    expect(second?.timeout).toBeGreaterThanOrEqual(1);
    expect(second?.timeout).toBeLessThanOrEqual(200);
  });

  it('sends a CANCEL flagged DEADLINE for a call that timed out and drops its late reply', async () => {
    const raw = await startRawServer();
    const client = startClient(raw.address, { connections: 1 });
    // Long enough to be written first however slow the machine: the dial and the write take turns.
    const late = rejection(client.call('slow', bytes('a'), { timeout: 1000 }));
    const connection = await raw.connection(0);
    const [request] = await connection.received(1);
    expect((await late).code).toBe('ERR_NETPOLL_RPC_TIMEOUT');
    const [, cancel] = await connection.received(2);
    expect(cancel).toEqual({
      kind: Kind.CANCEL,
      seq: request!.seq,
      expired: true,
      payload: Buffer.alloc(0),
    });
    // The reply comes anyway, after the CANCEL: it must not reach any other call.
    connection.send({ kind: Kind.RESPONSE, seq: request!.seq, payload: bytes('too late') });
    const next = client.call('next', bytes('b'));
    const [, , nextRequest] = await connection.received(3);
    expect(nextRequest).toMatchObject({ kind: Kind.REQUEST, method: 'next' });
    expect(nextRequest?.seq).not.toBe(request!.seq);
    connection.send({ kind: Kind.RESPONSE, seq: nextRequest!.seq, payload: bytes('in time') });
    expect(await next).toEqual(bytes('in time'));
    // Same connection throughout: a stray reply is not a protocol error.
    expect(raw.connections).toHaveLength(1);
    expect(connection.ended).toBe(false);
    expect(client.stats().calls).toMatchObject({
      succeeded: 1,
      failed: 1,
      errors: { ERR_NETPOLL_RPC_TIMEOUT: 1 },
    });
  });

  it("aborts the server handler's signal with DEADLINE_EXCEEDED, never CANCELLED, when the call timed out", async () => {
    const started = deferred<CallContext>();
    const finish = deferred();
    const replied: string[] = [];
    const server = await startServer({
      hold: async (_request: Buffer, context: CallContext) => {
        started.resolve(context);
        await finish.promise;
        replied.push('hold');
        return bytes('ignored');
      },
      ping: () => bytes('pong'),
    });
    const client = startClient(server.address, { connections: 1 });
    const timedOut = rejection(client.call('hold', bytes(''), { timeout: 1500 }));
    const context = await within(started.promise, 5000, 'the handler');
    expect((await timedOut).code).toBe('ERR_NETPOLL_RPC_TIMEOUT');
    // The CANCEL left before this call on the same connection, so the server has read it.
    expect(await client.call('ping', bytes(''))).toEqual(bytes('pong'));
    expect(context.signal.aborted).toBe(true);
    expect((context.signal.reason as { code: string }).code).toBe('DEADLINE_EXCEEDED');
    finish.resolve();
    await until(() => replied.length === 1, 'the handler finished');
    expect(client.stats().calls.inFlight).toBe(0);
  });

  it('stops counting calls that timed out waiting at a backing-off endpoint (mux)', async () => {
    const client = startClient(await closedPort(), {
      connections: 1,
      backoffInitial: 5000,
      backoffMax: 5000,
      ejectAfter: 100,
      pingInterval: 100,
    });
    // The first dial fails: the endpoint backs off for 5 s, and the next calls wait there.
    await outcome(client.call('m', bytes(''), { timeout: 50 }));
    const waiting = Array.from({ length: 5 }, () =>
      rejection(client.call('m', bytes(''), { timeout: 50 })),
    );
    expect(client.stats().endpoints[0]!.waiting).toBe(5);
    for (const error of await Promise.all(waiting))
      expect(error.code).toBe('ERR_NETPOLL_RPC_TIMEOUT');
    // The next upkeep tick (every 50 ms: half of pingInterval) drops them.
    await until(
      () => client.stats().endpoints[0]!.waiting === 0,
      'the timed-out calls dropped',
      2000,
    );
    expect(client.stats().endpoints[0]).toMatchObject({ waiting: 0, pending: 0 });
  });

  it('never lets a call outlive its deadline against a server that never answers', async () => {
    const raw = await startRawServer(answerPings);
    const client = startClient(raw.address);
    const timeouts = [50, 120, 200, 350, 500, 800];
    const started = performance.now();
    const results = await Promise.all(
      timeouts.map((timeout) => outcome(client.call('never', bytes(''), { timeout }))),
    );
    results.forEach((result, i) => {
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error.code).toBe('ERR_NETPOLL_RPC_TIMEOUT');
      // Settled at its own deadline: not before it, and not long after (a slack a busy machine's
      // stalls fit in; a call the client forgot would never settle).
      expect(result.at - started).toBeGreaterThanOrEqual(timeouts[i]! - 1);
      expect(result.at - started).toBeLessThan(timeouts[i]! + 3000);
    });
    expect(raw.requests()).toHaveLength(timeouts.length);
  });

  it('times out a call whose resolver never answered (processed false)', async () => {
    const client = startClient({ start: () => {}, close: () => {} });
    const error = await rejection(client.call('m', bytes(''), { timeout: 100 }));
    expect(error.code).toBe('ERR_NETPOLL_RPC_TIMEOUT');
    expect(error.processed).toBe(false);
  });

  const unreachable: Array<[string, () => Promise<string>, ClientOptions]> = [
    ['a closed TCP port', closedPort, {}],
    ['a missing Unix socket', async () => tempSocketPath(), {}],
    // One dial at a time: the endpoint is ejected only after re-dials on the backoff timer.
    ['a closed TCP port, one connection', closedPort, { connections: 1 }],
    ['a closed TCP port, pool transport', closedPort, { transport: 'pool' }],
  ];
  it.each(unreachable)(
    'fails fast with ERR_NETPOLL_RPC_UNAVAILABLE when no endpoint is reachable: %s',
    async (_name, address, options) => {
      // Ten clients, so a client whose re-dial got lost shows (it would time out at 5 s).
      const target = await address();
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          outcome(startClient(target, { ...options, timeout: 5000 }).call('m', bytes(''))),
        ),
      );
      for (const result of results) {
        expect(result.ok).toBe(false);
        if (result.ok) continue;
        expect(result.error).toBeInstanceOf(RpcError);
        expect(result.error.code).toBe('ERR_NETPOLL_RPC_UNAVAILABLE');
        expect(result.error.processed).toBe(false);
        expect(result.error.message).toMatch(/^no endpoint can take call m: /);
      }
    },
  );

  it('lets timers and I/O run between the failures of a caller that retries at once', async () => {
    const client = startClient(await closedPort());
    let fired = false;
    setTimeout(() => {
      fired = true;
    }, 20);
    let attempts = 0;
    const codes = new Set<string | undefined>();
    while (!fired && attempts < 300_000) {
      attempts++;
      try {
        await client.call('m', bytes(''));
      } catch (error) {
        codes.add((error as RpcError).code);
      }
    }
    expect([...codes]).toEqual(['ERR_NETPOLL_RPC_UNAVAILABLE']);
    expect(fired).toBe(true);
  });

  it('after ejection, fails the next calls at once with the dial error as cause', async () => {
    const address = await closedPort();
    const client = startClient(address, { ejectAfter: 2, backoffInitial: 10, backoffMax: 20 });
    expect((await rejection(client.call('m', bytes('')))).code).toBe('ERR_NETPOLL_RPC_UNAVAILABLE');
    expect(client.stats().endpoints).toMatchObject([{ address, ejected: true, connections: 0 }]);
    const error = await rejection(client.call('m', bytes('')));
    expect(error.code).toBe('ERR_NETPOLL_RPC_UNAVAILABLE');
    expect(error.processed).toBe(false);
    expect((error.cause as { code?: string }).code).toBe('ECONNREFUSED');
  });
});

describe("the server's DEADLINE_EXCEEDED against the call's own deadline", () => {
  // One connection on its own: no client deadline timer, so the reply alone settles the call,
  // as it does when the server's reply is read before the client's timer fires (a race of two
  // timers, the server's a little later than the client's).
  async function callAnswered(timeout: number, answerAfterMs: number, refused: boolean) {
    const raw = await startRawServer((connection, message) => {
      if (message.kind !== Kind.REQUEST) return;
      setTimeout(() => {
        connection.send({
          kind: Kind.ERROR,
          seq: message.seq,
          code: 'DEADLINE_EXCEEDED',
          message: 'too late',
          refused,
          payload: bytes(''),
        });
      }, answerAfterMs);
    });
    const socket = await dialConnection('tcp', raw.address);
    afterTest(() => socket.close());
    const { host } = recordingHost();
    const connection = new ClientConnection(socket, host, resolveClientOptions({}));
    const { call, reply } = makeCall('m', bytes('x'), false, timeout);
    connection.send(call);
    return rejection(reply);
  }

  it.each([
    [false, true],
    [true, false],
  ])(
    "once the deadline passed it is ERR_NETPOLL_RPC_TIMEOUT (refused %s: processed %s), the server's error its cause",
    async (refused, processed) => {
      const error = await callAnswered(50, 120, refused);
      expect(error).toBeInstanceOf(RpcError);
      expect(error.code).toBe('ERR_NETPOLL_RPC_TIMEOUT');
      expect(error.message).toBe('call m timed out after 50 ms');
      expect(error.processed).toBe(processed);
      expect(error.cause).toMatchObject({
        code: 'ERR_NETPOLL_RPC_REMOTE',
        remoteCode: 'DEADLINE_EXCEEDED',
        remoteMessage: 'too late',
        processed,
      });
    },
  );

  it.each([
    ['before the deadline', 10_000, 0, false, true],
    ['before the deadline, refused', 10_000, 0, true, false],
    ['for a call without a deadline', 0, 120, false, true],
  ])(
    "%s it is the server's own answer: ERR_NETPOLL_RPC_REMOTE",
    async (_what, timeout, after, refused, processed) => {
      const error = await callAnswered(timeout, after, refused);
      expect(error.code).toBe('ERR_NETPOLL_RPC_REMOTE');
      expect(error).toMatchObject({
        remoteCode: 'DEADLINE_EXCEEDED',
        remoteMessage: 'too late',
        processed,
      });
    },
  );
});
