/**
 * A hung server (its process stopped with SIGSTOP: the kernel keeps its sockets open, nothing
 * answers): liveness pings evict the connection within pingInterval + pingTimeout, so the calls
 * on it fail with ERR_NETPOLL_RPC_UNAVAILABLE then, not at their much later deadlines; after
 * SIGCONT the client works again.
 */
import { Kind } from '../src';
import { startServerChild } from './helpers/client-child';
import {
  answerPings,
  bytes,
  outcome,
  startClient,
  startRawServer,
  until,
} from './helpers/client-harness';

jest.setTimeout(60_000);

/**
 * What a busy machine may add to a timer-driven bound (stalls of about a second were seen in CI):
 * the bounds below only need to tell "found by the ping" from "hit the 10 s deadline".
 */
const kSlackMs = 3000;

describe('a hung server', () => {
  it('is found by pings: its calls fail within pingInterval + pingTimeout, and it serves again after SIGCONT', async () => {
    const child = await startServerChild();
    const pingInterval = 200;
    const pingTimeout = 300;
    const timeout = 10000;
    const client = startClient(child.address, {
      connections: 1,
      pingInterval,
      pingTimeout,
      timeout,
    });
    expect(await client.call('echo', bytes('warm'))).toEqual(bytes('warm'));

    child.process.kill('SIGSTOP');
    const started = performance.now();
    const calls = Array.from({ length: 5 }, (_, i) =>
      outcome(client.call('echo', bytes(`while stopped ${i}`))),
    );
    for (const result of await Promise.all(calls)) {
      expect(result).toMatchObject({
        ok: false,
        error: {
          code: 'ERR_NETPOLL_RPC_UNAVAILABLE',
          processed: true,
          message: `no pong within pingTimeout (${pingTimeout} ms)`,
        },
      });
      // Found by the ping (checked every 100 ms here), far before the 10 s deadline: the bound
      // is the two intervals plus the liveness check period twice and a slack.
      expect(result.at - started).toBeLessThan(pingInterval + pingTimeout + kSlackMs);
    }
    expect(client.stats().endpoints[0]!.connections).toBe(0);

    child.process.kill('SIGCONT');
    expect(await client.call('echo', bytes('back'))).toEqual(bytes('back'));
    expect(String(await client.call('pid', bytes('')))).toBe(String(child.process.pid));
    expect(client.stats().calls).toMatchObject({
      succeeded: 3,
      failed: 5,
      inFlight: 0,
      errors: { ERR_NETPOLL_RPC_UNAVAILABLE: 5 },
    });
  });

  it('pings a quiet connection every pingInterval and keeps it while pongs come', async () => {
    const raw = await startRawServer(answerPings);
    // The pongs come from this process: a generous pingTimeout, so that a stalled test process
    // does not make a healthy connection look hung (pings still go every 50 ms).
    const client = startClient(raw.address, {
      connections: 1,
      pingInterval: 50,
      pingTimeout: 2000,
    });
    const call = client.call('m', bytes('x'));
    const connection = await raw.connection(0);
    const [request] = await connection.received(1);
    connection.send({ kind: Kind.RESPONSE, seq: request!.seq, payload: bytes('y') });
    expect(await call).toEqual(bytes('y'));
    const pings = () => connection.messages.filter((message) => message.kind === Kind.PING);
    await until(() => pings().length >= 4, 'four pings');
    // Each ping has its own id; every one was answered, so the connection stayed.
    expect(new Set(pings().map((ping) => ping.seq)).size).toBe(pings().length);
    expect(connection.ended).toBe(false);
    expect(raw.connections).toHaveLength(1);
    expect(client.stats().endpoints[0]!.connections).toBe(1);
  });

  it('closes a connection whose ping gets no pong within pingTimeout', async () => {
    const raw = await startRawServer(() => {});
    const client = startClient(raw.address, { connections: 1, pingInterval: 50, pingTimeout: 100 });
    const call = outcome(client.call('m', bytes('x'), { timeout: 10000 }));
    const connection = await raw.connection(0);
    await until(() => connection.messages.some((message) => message.kind === Kind.PING), 'a ping');
    const pinged = performance.now();
    await connection.closed;
    expect(performance.now() - pinged).toBeLessThan(100 + kSlackMs);
    expect(await call).toMatchObject({
      ok: false,
      error: {
        code: 'ERR_NETPOLL_RPC_UNAVAILABLE',
        message: 'no pong within pingTimeout (100 ms)',
      },
    });
  });
});
