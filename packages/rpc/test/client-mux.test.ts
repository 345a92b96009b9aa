/**
 * The mux transport: many calls in flight on one connection, replies matched by seq whatever
 * their order, the requests of one tick sent with one flush, and calls spread over
 * `connections` connections per endpoint — over TCP and Unix sockets.
 */
import { getReactorStats } from '@netpoll/core';
import { type CallContext, Kind } from '../src';
import {
  bytes,
  type Deferred,
  deferred,
  type Network,
  payloads,
  startClient,
  startRawServer,
  startServer,
  until,
} from './helpers/client-harness';

describe.each<Network>(['tcp', 'unix'])('mux transport over %s', (network) => {
  it('runs 200 concurrent calls on one connection and matches replies released in reverse order', async () => {
    const held: Array<{ request: string; remote: string; release: Deferred<void> }> = [];
    const server = await startServer(
      {
        hold: async (request: Buffer, context: CallContext) => {
          const entry = {
            request: request.toString('utf8'),
            remote: context.remoteAddress,
            release: deferred(),
          };
          held.push(entry);
          await entry.release.promise;
          return bytes(`reply to ${entry.request}`);
        },
      },
      undefined,
      network,
    );
    const client = startClient(server.address, { connections: 1 });
    const calls = Array.from({ length: 200 }, (_, i) => client.call('hold', bytes(`call ${i}`)));
    await until(() => held.length === 200, 'every call reached its handler');
    // Every call is in flight at once, on the one connection.
    expect(new Set(held.map((entry) => entry.remote)).size).toBe(1);
    expect((await server.stats()).calls.inFlight).toBe(200);
    for (const entry of [...held].reverse()) entry.release.resolve();
    const results = await Promise.all(calls);
    expect(results.map((result) => (result as Buffer).toString('utf8'))).toEqual(
      Array.from({ length: 200 }, (_, i) => `reply to call ${i}`),
    );
    expect(client.stats().calls).toMatchObject({ started: 200, succeeded: 200, inFlight: 0 });
  });

  it('gives each call in flight its own non-zero seq and takes replies in any order', async () => {
    const raw = await startRawServer(undefined, network);
    const client = startClient(raw.address, { connections: 1 });
    const calls = Array.from({ length: 50 }, (_, i) => client.call('m', bytes(`p${i}`)));
    const connection = await raw.connection(0);
    const requests = await connection.received(50);
    const seqs = requests.map((request) => request.seq);
    expect(requests.every((request) => request.kind === Kind.REQUEST)).toBe(true);
    expect(seqs.every((seq) => seq > 0)).toBe(true);
    expect(new Set(seqs).size).toBe(50);
    // Replies in a scrambled order (odd positions first, each half reversed).
    const order = [
      ...requests.filter((_, i) => i % 2 === 1).reverse(),
      ...requests.filter((_, i) => i % 2 === 0).reverse(),
    ];
    for (const request of order) {
      connection.send({
        kind: Kind.RESPONSE,
        seq: request.seq,
        payload: bytes(`r:${request.payload.toString('utf8')}`),
      });
    }
    const results = await Promise.all(calls);
    expect(results.map((result) => (result as Buffer).toString('utf8'))).toEqual(
      Array.from({ length: 50 }, (_, i) => `r:p${i}`),
    );
  });

  it('sends the requests of one tick with one flush: one write, one data event', async () => {
    const raw = await startRawServer((connection, message) => {
      if (message.kind === Kind.REQUEST) {
        connection.send({ kind: Kind.RESPONSE, seq: message.seq, payload: message.payload });
      }
    }, network);
    const client = startClient(raw.address, { connections: 1 });
    await client.call('warm', bytes('up'));
    const connection = await raw.connection(0);
    for (const round of [1, 2]) {
      const chunksBefore = connection.chunks.length;
      const requestsBefore = connection.requests().length;
      const writesBefore = getReactorStats().writevCalls;
      const calls = Array.from({ length: 100 }, (_, i) =>
        client.call('m', bytes(`round ${round} call ${i}`)),
      );
      await Promise.all(calls);
      // The raw server is node:net: the reactor's writes are the client's alone.
      expect(getReactorStats().writevCalls - writesBefore).toBe(1);
      expect(connection.chunks.length - chunksBefore).toBe(1);
      expect(payloads(connection.requests().slice(requestsBefore))).toEqual(
        Array.from({ length: 100 }, (_, i) => `round ${round} call ${i}`),
      );
    }
  });

  it('opens exactly `connections` connections to an endpoint on its first call', async () => {
    const server = await startServer({ echo: (request: Buffer) => request }, undefined, network);
    const client = startClient(server.address, { connections: 4 });
    expect(await client.call('echo', bytes('first'))).toEqual(bytes('first'));
    await until(() => client.stats().endpoints[0]?.connections === 4, 'four connections open');
    await Promise.all(Array.from({ length: 30 }, () => client.call('echo', bytes('more'))));
    expect(client.stats().endpoints[0]?.connections).toBe(4);
    expect((await server.stats()).connections).toBe(4);
  });

  it('spreads calls round-robin over its `connections` connections', async () => {
    const seen = new Map<string, number>();
    const server = await startServer(
      {
        where: (_request: Buffer, context: CallContext) => {
          seen.set(context.remoteAddress, (seen.get(context.remoteAddress) ?? 0) + 1);
          return bytes(context.remoteAddress);
        },
      },
      undefined,
      network,
    );
    const client = startClient(server.address, { connections: 4 });
    await client.call('where', bytes(''));
    await until(() => client.stats().endpoints[0]?.connections === 4, 'four connections open');
    expect((await server.stats()).connections).toBe(4);
    seen.clear();
    await Promise.all(Array.from({ length: 40 }, () => client.call('where', bytes(''))));
    if (network === 'tcp') {
      expect([...seen.keys()].sort()).toHaveLength(4);
      expect([...seen.values()]).toEqual([10, 10, 10, 10]);
    } else {
      // Unix peers have no address to tell connections apart: count them on the server.
      expect([...seen.values()].reduce((sum, count) => sum + count, 0)).toBe(40);
      expect((await server.stats()).connections).toBe(4);
    }
  });
});

describe('mux transport, choice of connection', () => {
  it("sends a call on the connection with the fewest in flight: the callers of one connection's replies refill it", async () => {
    const held: Array<{ remote: string; release: Deferred<void> }> = [];
    const server = await startServer({
      hold: async (_request: Buffer, context: CallContext) => {
        const entry = { remote: context.remoteAddress, release: deferred() };
        held.push(entry);
        await entry.release.promise;
        return bytes(context.remoteAddress);
      },
      where: (_request: Buffer, context: CallContext) => bytes(context.remoteAddress),
    });
    const client = startClient(server.address, { connections: 4 });
    await client.call('where', bytes(''));
    await until(() => client.stats().endpoints[0]?.connections === 4, 'four connections open');
    const calls = Array.from({ length: 40 }, () => client.call('hold', bytes('')));
    await until(() => held.length === 40, 'every call reached its handler');
    const perConnection = new Map<string, number>();
    for (const entry of held) {
      perConnection.set(entry.remote, (perConnection.get(entry.remote) ?? 0) + 1);
    }
    expect([...perConnection.values()]).toEqual([10, 10, 10, 10]);
    // The 10 calls of one connection come back; each caller calls again at once.
    const first = held[0]!.remote;
    const again: Array<Promise<unknown>> = [];
    for (const entry of held.filter((entry) => entry.remote === first)) {
      entry.release.resolve();
    }
    const replies = calls.map((call) =>
      call.then((reply) => {
        if ((reply as Buffer).toString('utf8') === first)
          again.push(client.call('where', bytes('')));
      }),
    );
    await until(() => again.length === 10, 'ten callers called again');
    const answers = await Promise.all(again);
    // All ten went to the connection that had room, not one per connection round-robin.
    expect(answers.map((answer) => (answer as Buffer).toString('utf8'))).toEqual(
      Array.from({ length: 10 }, () => first),
    );
    for (const entry of held) entry.release.resolve();
    await Promise.all(replies);
  });
});
