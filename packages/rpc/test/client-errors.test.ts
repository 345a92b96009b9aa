/**
 * Failed calls: errors the server answers (ERR_NETPOLL_RPC_REMOTE with remoteCode,
 * remoteMessage and whether the handler may have run), UNAVAILABLE refusals (REFUSED) retried once, and a
 * connection that dies mid-call — exactly its calls fail (ERR_NETPOLL_RPC_UNAVAILABLE, processed),
 * the other connection's succeed, and idempotent calls are sent once more.
 */
import { Kind, type Message, RpcError, RpcStatus } from '../src';
import {
  bytes,
  outcome,
  type RawConnection,
  rejection,
  startClient,
  startRawServer,
  startServer,
  until,
} from './helpers/client-harness';

describe('remote errors', () => {
  it("carries a handler's RpcStatus code and message (processed true)", async () => {
    const server = await startServer({
      get: () => {
        throw new RpcStatus('NOT_FOUND', 'no such user');
      },
    });
    const client = startClient(server.address);
    const error = await rejection(client.call('get', bytes('42')));
    expect(error).toBeInstanceOf(RpcError);
    expect(error.code).toBe('ERR_NETPOLL_RPC_REMOTE');
    expect(error.remoteCode).toBe('NOT_FOUND');
    expect(error.remoteMessage).toBe('no such user');
    expect(error.processed).toBe(true);
    expect(error.message).toBe('call get failed on the server: NOT_FOUND: no such user');
    expect(client.stats().calls.errors).toEqual({ ERR_NETPOLL_RPC_REMOTE: 1 });
  });

  it('answers an unknown method UNIMPLEMENTED (processed false)', async () => {
    const server = await startServer({ known: () => bytes('') });
    const client = startClient(server.address);
    const error = await rejection(client.call('unknown', bytes('')));
    expect(error.code).toBe('ERR_NETPOLL_RPC_REMOTE');
    expect(error.remoteCode).toBe('UNIMPLEMENTED');
    expect(error.remoteMessage).toBe('no method "unknown"');
    expect(error.processed).toBe(false);
  });

  it('answers a failing handler INTERNAL with a generic message unless the server exposes errors', async () => {
    const service = {
      fail: async () => {
        throw new Error('database password is hunter2');
      },
    };
    const hidden = await startServer(service);
    const exposed = await startServer(service, { exposeErrors: true });
    const hiddenError = await rejection(startClient(hidden.address).call('fail', bytes('')));
    expect(hiddenError).toMatchObject({
      code: 'ERR_NETPOLL_RPC_REMOTE',
      remoteCode: 'INTERNAL',
      remoteMessage: 'internal error',
      processed: true,
    });
    const exposedError = await rejection(startClient(exposed.address).call('fail', bytes('')));
    expect(exposedError).toMatchObject({
      remoteCode: 'INTERNAL',
      remoteMessage: 'database password is hunter2',
    });
  });

  it('answers a request the server cannot decode INVALID_ARGUMENT (processed false)', async () => {
    const server = await startServer(
      { add: (request: { a: number }) => request.a + 1 },
      {
        serializer: 'json',
      },
    );
    const client = startClient(server.address);
    const error = await rejection(client.call('add', bytes('{not json')));
    expect(error.code).toBe('ERR_NETPOLL_RPC_REMOTE');
    expect(error.remoteCode).toBe('INVALID_ARGUMENT');
    expect(error.remoteMessage).toMatch(/^the request could not be decoded: /);
    expect(error.processed).toBe(false);
  });

  it('reads a code of its own with an empty message from a raw server', async () => {
    const raw = await startRawServer((connection, message) => {
      if (message.kind === Kind.REQUEST) {
        connection.send({ kind: Kind.ERROR, seq: message.seq, code: 'TEAPOT', payload: bytes('') });
      }
    });
    const error = await rejection(startClient(raw.address).call('brew', bytes('')));
    expect(error.message).toBe('call brew failed on the server: TEAPOT');
    expect(error).toMatchObject({ remoteCode: 'TEAPOT', remoteMessage: '', processed: true });
  });

  it('sends a call refused UNAVAILABLE (REFUSED) once more; round-robin takes it to the other endpoint', async () => {
    const refusing = await startRawServer((connection, message) => {
      if (message.kind !== Kind.REQUEST) return;
      if (message.method === 'warm') {
        connection.send({ kind: Kind.RESPONSE, seq: message.seq, payload: bytes('') });
        return;
      }
      connection.send({
        kind: Kind.ERROR,
        seq: message.seq,
        code: 'UNAVAILABLE',
        message: 'shutting down',
        refused: true,
        payload: bytes(''),
      });
    });
    const serving = await startServer({
      warm: () => bytes(''),
      m: (request: Buffer) => Buffer.concat([request, bytes('!')]),
    });
    // Alone, the refusing endpoint gets both attempts, and the call fails with its refusal.
    const alone = startClient(refusing.address);
    const error = await rejection(alone.call('m', bytes('x')));
    expect(error).toMatchObject({
      code: 'ERR_NETPOLL_RPC_REMOTE',
      remoteCode: 'UNAVAILABLE',
      remoteMessage: 'shutting down',
      processed: false,
    });
    expect(refusing.requests().map((request) => request.method)).toEqual(['m', 'm']);
    // With both endpoints ready, every call succeeds: a refused one is sent to the next endpoint.
    const both = startClient([refusing.address, serving.address], { connections: 1 });
    await Promise.all([both.call('warm', bytes('')), both.call('warm', bytes(''))]);
    await until(
      () => both.stats().endpoints.every((endpoint) => endpoint.connections === 1),
      'both endpoints connected',
    );
    for (let i = 0; i < 10; i++)
      expect(await both.call('m', bytes(`${i}`))).toEqual(bytes(`${i}!`));
    const refused = refusing.requests().filter((request) => request.method === 'm').length - 2;
    expect(refused).toBeGreaterThan(0);
    expect(both.stats().calls).toMatchObject({ succeeded: 12, failed: 0 });
  });
});

describe('a connection that dies mid-call', () => {
  /**
   * A raw server that answers `warm` at once and keeps every other request; a client with two
   * connections to it, both open. Returns the two raw connections.
   */
  async function twoConnections() {
    const raw = await startRawServer((connection, message) => {
      if (message.kind === Kind.REQUEST && message.method === 'warm') {
        connection.send({ kind: Kind.RESPONSE, seq: message.seq, payload: bytes('') });
      }
    });
    const client = startClient(raw.address, { connections: 2 });
    await client.call('warm', bytes(''));
    await until(
      () => client.stats().endpoints[0]?.connections === 2 && raw.connections.length === 2,
      'two connections open',
    );
    return { raw, client };
  }

  function answerAll(connection: RawConnection, requests: readonly Message[]): void {
    for (const request of requests) {
      if (request.method === 'warm') continue;
      connection.send({ kind: Kind.RESPONSE, seq: request.seq, payload: request.payload });
    }
  }

  it.each([
    ['reset', (connection: RawConnection) => connection.socket.resetAndDestroy()],
    ['closed', (connection: RawConnection) => connection.socket.destroy()],
  ])(
    'fails exactly the calls written on a connection %s by the peer; the others succeed',
    async (_how, kill) => {
      const { raw, client } = await twoConnections();
      const calls = Array.from({ length: 20 }, (_, i) => outcome(client.call('m', bytes(`c${i}`))));
      await until(() => raw.requests().length === 21, 'every call reached the server');
      const [dead, alive] = raw.connections as [RawConnection, RawConnection];
      const onDead = dead.requests().filter((request) => request.method === 'm');
      const onAlive = alive.requests().filter((request) => request.method === 'm');
      // Round-robin over the two connections.
      expect(onDead).toHaveLength(10);
      expect(onAlive).toHaveLength(10);
      kill(dead);
      answerAll(alive, onAlive);
      const results = await Promise.all(calls);
      const deadPayloads = new Set(onDead.map((request) => request.payload.toString('utf8')));
      results.forEach((result, i) => {
        if (deadPayloads.has(`c${i}`)) {
          expect(result.ok).toBe(false);
          if (result.ok) return;
          expect(result.error.code).toBe('ERR_NETPOLL_RPC_UNAVAILABLE');
          expect(result.error.processed).toBe(true);
        } else {
          expect(result).toMatchObject({ ok: true, value: bytes(`c${i}`) });
        }
      });
      expect(client.stats().calls).toMatchObject({
        succeeded: 11,
        failed: 10,
        errors: { ERR_NETPOLL_RPC_UNAVAILABLE: 10 },
      });
      // Nothing was sent twice: these calls are not idempotent.
      expect(raw.requests()).toHaveLength(21);
    },
  );

  it('sends the idempotent calls of a reset connection once more, on another connection', async () => {
    const { raw, client } = await twoConnections();
    const calls = Array.from({ length: 20 }, (_, i) =>
      outcome(client.call('m', bytes(`c${i}`), { idempotent: i % 2 === 0 })),
    );
    await until(() => raw.requests().length === 21, 'every call reached the server');
    const [dead, alive] = raw.connections as [RawConnection, RawConnection];
    const onDead = dead.requests().filter((request) => request.method === 'm');
    const onAlive = alive.requests().filter((request) => request.method === 'm');
    // From now on the raw server answers every request at once (the retries).
    raw.handler = (connection, message) => {
      if (message.kind === Kind.REQUEST) {
        connection.send({ kind: Kind.RESPONSE, seq: message.seq, payload: message.payload });
      }
    };
    dead.socket.resetAndDestroy();
    answerAll(alive, onAlive);
    const results = await Promise.all(calls);
    const deadPayloads = onDead.map((request) => request.payload.toString('utf8'));
    const retried = deadPayloads.filter((payload) => Number(payload.slice(1)) % 2 === 0);
    expect(retried.length).toBeGreaterThan(0);
    results.forEach((result, i) => {
      const wasOnDead = deadPayloads.includes(`c${i}`);
      if (wasOnDead && i % 2 === 1) {
        expect(result).toMatchObject({ ok: false, error: { code: 'ERR_NETPOLL_RPC_UNAVAILABLE' } });
      } else {
        expect(result).toMatchObject({ ok: true, value: bytes(`c${i}`) });
      }
    });
    // Each idempotent call of the dead connection reached the server a second time.
    const secondTries = raw
      .requests()
      .filter((request) => request.method === 'm')
      .map((request) => request.payload.toString('utf8'));
    for (const payload of retried) {
      expect(secondTries.filter((seen) => seen === payload)).toHaveLength(2);
    }
    expect(secondTries).toHaveLength(20 + retried.length);
  });

  it('sends the retry of an idempotent call to another endpoint, not back to the one that failed it', async () => {
    // Server A resets the connection a `boom` arrives on — its other connection stays up and
    // looks usable, as a hung server's second connection does until its ping times out. B
    // answers everything. Each boom that lands on A must be retried on B: before the fix the
    // retry went back to A about half the time (least-pending between two idle endpoints) and
    // failed there again.
    const answer = (connection: RawConnection, message: Message): void => {
      if (message.kind === Kind.PING) {
        connection.send({ kind: Kind.PONG, seq: message.seq, payload: message.payload });
      } else if (message.kind === Kind.REQUEST) {
        connection.send({ kind: Kind.RESPONSE, seq: message.seq, payload: message.payload });
      }
    };
    const a = await startRawServer((connection, message) => {
      if (message.kind === Kind.REQUEST && message.method === 'boom') {
        connection.socket.resetAndDestroy();
      } else answer(connection, message);
    });
    const b = await startRawServer(answer);
    const client = startClient([a.address, b.address], {
      connections: 2,
      balancer: 'least-pending',
    });
    // A reset connection is replaced on the endpoint's next call: warm calls until both servers
    // have two connections again.
    const warm = async (): Promise<void> => {
      const ready = () =>
        client
          .stats()
          .endpoints.map((endpoint) => endpoint.connections)
          .join() === '2,2';
      for (let i = 0; !ready() && i < 500; i++) {
        await client.call('warm', bytes(''));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      expect(client.stats().endpoints.map((endpoint) => endpoint.connections)).toEqual([2, 2]);
    };
    await warm();
    let onA = 0;
    for (let i = 0; i < 24; i++) {
      const before = a.requests().filter((request) => request.method === 'boom').length;
      const result = await outcome(client.call('boom', bytes(`b${i}`), { idempotent: true }));
      if (a.requests().filter((request) => request.method === 'boom').length > before) onA++;
      expect(result).toMatchObject({ ok: true, value: bytes(`b${i}`) });
      await warm();
    }
    // The first attempts were spread over both: the retry path was taken.
    expect(onA).toBeGreaterThan(0);
  });

  it('tries an idempotent call at most twice', async () => {
    const raw = await startRawServer((connection, message) => {
      if (message.kind === Kind.REQUEST) connection.socket.resetAndDestroy();
    });
    const client = startClient(raw.address, { connections: 1 });
    const error = await rejection(client.call('boom', bytes(''), { idempotent: true }));
    expect(error.code).toBe('ERR_NETPOLL_RPC_UNAVAILABLE');
    expect(error.processed).toBe(true);
    expect(raw.requests()).toHaveLength(2);
  });

  it('reports an idempotent call processed when its retry finds no endpoint: the first attempt may have run', async () => {
    const raw = await startRawServer((connection, message) => {
      // The only server stops listening, then resets the call's connection: no retry can go out.
      if (message.kind === Kind.REQUEST) {
        void raw.stopListening().then(() => connection.socket.resetAndDestroy());
      }
    });
    const client = startClient(raw.address, { connections: 1, ejectAfter: 1 });
    const error = await rejection(client.call('m', bytes('x'), { idempotent: true }));
    expect(error).toMatchObject({ code: 'ERR_NETPOLL_RPC_UNAVAILABLE', processed: true });
    expect(raw.requests()).toHaveLength(1);
  });

  it('fails the calls in flight with the cause of the failure', async () => {
    const raw = await startRawServer((connection, message) => {
      if (message.kind === Kind.REQUEST) connection.socket.resetAndDestroy();
    });
    const client = startClient(raw.address, { connections: 1 });
    const error = await rejection(client.call('boom', bytes('')));
    expect(error.code).toBe('ERR_NETPOLL_RPC_UNAVAILABLE');
    expect(error.message).toMatch(/^the connection failed: /);
    expect((error.cause as { code?: string }).code).toBe('ECONNRESET');
  });
});
