/**
 * Replies read into the caller's Buffer (`into`): a reply that fits is copied into it and resolves
 * as a view of it, a longer one gets a Buffer of its own; an attempt an interceptor no longer
 * waits for (a hedge that lost, one it gave up on, one it answered for) never writes into it.
 */
import { Kind } from '../src';
import {
  bytes,
  rejection,
  startClient,
  startRawServer,
  startServer,
  until,
} from './helpers/client-harness';

/** A server whose `echo` method answers the request. */
function echoServer() {
  return startServer({ echo: (request: Buffer) => Buffer.from(request) });
}

describe("replies into the caller's Buffer (`into`)", () => {
  it('copies a reply that fits into `into` and resolves with the part it fills', async () => {
    const server = await echoServer();
    const client = startClient(server.address);
    const into = Buffer.alloc(16, 0x2e);
    const reply = (await client.call('echo', bytes('hello'), { into })) as Buffer;
    expect(reply.toString('utf8')).toBe('hello');
    // A view of `into`, not a copy of its own.
    expect(reply.buffer).toBe(into.buffer);
    expect(reply.byteOffset).toBe(into.byteOffset);
    expect(into.toString('utf8')).toBe('hello...........');
    // The next call reuses it; an exact fit is `into` itself.
    const exact = Buffer.alloc(5);
    expect(await client.call('echo', bytes('again'), { into: exact })).toBe(exact);
    expect(exact.toString('utf8')).toBe('again');
    const empty = (await client.call('echo', bytes(''), { into })) as Buffer;
    expect(empty.length).toBe(0);
    expect(empty.buffer).toBe(into.buffer);
  });

  it('gives a reply longer than `into` in a new Buffer and leaves `into` alone', async () => {
    const server = await echoServer();
    const client = startClient(server.address);
    const into = Buffer.alloc(4, 0x2e);
    const reply = (await client.call('echo', bytes('longer than four'), { into })) as Buffer;
    expect(reply.toString('utf8')).toBe('longer than four');
    expect(reply.buffer).not.toBe(into.buffer);
    expect(into.toString('utf8')).toBe('....');
  });

  it('fills `into` from a reply that carries flags (CLOSING) as well', async () => {
    const raw = await startRawServer((connection, message) => {
      if (message.kind === Kind.REQUEST) {
        connection.send({
          kind: Kind.RESPONSE,
          seq: message.seq,
          closing: true,
          payload: bytes('last reply'),
        });
      }
    });
    const client = startClient(raw.address, { connections: 1 });
    const into = Buffer.alloc(32);
    const reply = (await client.call('m', bytes('x'), { into })) as Buffer;
    expect(reply.toString('utf8')).toBe('last reply');
    expect(reply.buffer).toBe(into.buffer);
  });

  it('refuses `into` that is not a Buffer, and with any serializer but raw', async () => {
    const server = await echoServer();
    const client = startClient(server.address);
    const notBuffer = await rejection(
      client.call('echo', bytes('x'), { into: new Uint8Array(8) as Buffer }),
    );
    expect(notBuffer.code).toBe('ERR_NETPOLL_INVALID_ARG');
    expect(notBuffer.message).toContain('options.into');
    const json = startClient(server.address, { serializer: 'json' });
    const withJson = await rejection(json.call('echo', 'x', { into: Buffer.alloc(8) }));
    expect(withJson.code).toBe('ERR_NETPOLL_INVALID_ARG');
    expect(withJson.message).toContain('raw serializer');
  });
});

describe('`into` and interceptors', () => {
  /** A raw server that answers each request with the payload the test gives it, when it says. */
  async function heldServer() {
    const requests: Array<{ seq: number; answer: (payload: string) => void }> = [];
    const raw = await startRawServer((connection, message) => {
      if (message.kind === Kind.REQUEST) {
        requests.push({
          seq: message.seq,
          answer: (payload) =>
            connection.send({ kind: Kind.RESPONSE, seq: message.seq, payload: bytes(payload) }),
        });
      }
    });
    return { raw, requests };
  }

  it("a hedging interceptor's losing attempt does not overwrite the reply the caller has", async () => {
    const { raw, requests } = await heldServer();
    const client = startClient(raw.address, { connections: 1 });
    const attempts: Array<Promise<unknown>> = [];
    client.use((_context, next) => {
      // A hedge: the same call twice, the first answer wins.
      attempts.push(next(), next());
      for (const attempt of attempts) attempt.catch(() => {});
      return Promise.race(attempts);
    });
    const into = Buffer.alloc(16);
    const call = client.call('m', bytes('x'), { into });
    await until(() => requests.length === 2, 'both attempts sent');
    requests[0]!.answer('first');
    const reply = (await call) as Buffer;
    expect(reply.toString('utf8')).toBe('first');
    requests[1]!.answer('LOSER');
    await attempts[1];
    expect(reply.toString('utf8')).toBe('first');
  });

  it('an attempt an interceptor gave up on does not write into `into` once the caller reuses it', async () => {
    const { raw, requests } = await heldServer();
    const client = startClient(raw.address, { connections: 1 });
    const attempts: Array<Promise<unknown>> = [];
    client.use((context, next) => {
      const attempt = next();
      attempts.push(attempt);
      if (String(context.request) !== 'give up') return attempt;
      attempt.catch(() => {});
      return Promise.reject(new Error('given up'));
    });
    const into = Buffer.alloc(16);
    await expect(client.call('m', bytes('give up'), { into })).rejects.toThrow('given up');
    // The caller's Buffer is free again, as far as it can tell: it uses it for the next call.
    const next = client.call('m', bytes('next'), { into });
    await until(() => requests.length === 2, 'both calls sent');
    requests[1]!.answer('second');
    const reply = (await next) as Buffer;
    expect(reply.toString('utf8')).toBe('second');
    requests[0]!.answer('STALE!');
    await attempts[0];
    expect(reply.toString('utf8')).toBe('second');
  });

  it('an interceptor that answers on its own keeps its attempt, still in flight, out of `into`', async () => {
    const { raw, requests } = await heldServer();
    const client = startClient(raw.address, { connections: 1 });
    const attempts: Array<Promise<unknown>> = [];
    client.use((_context, next) => {
      const attempt = next();
      attempt.catch(() => {});
      attempts.push(attempt);
      return Buffer.from('cached');
    });
    const into = Buffer.alloc(8);
    expect(String(await client.call('m', bytes('x'), { into }))).toBe('cached');
    await until(() => requests.length === 1, 'the attempt sent');
    requests[0]!.answer('STALE!');
    await attempts[0];
    expect(into).toEqual(Buffer.alloc(8));
  });
});
