/**
 * What a client adds around its calls: interceptors (order, metadata the server sees, answering
 * or failing on their own), call metadata, one-way calls, serializers (json, custom, and their
 * failures), frame size limits, stats() and the `netpoll:rpc:client:call` tracing channel.
 */
import { tracingChannel } from 'node:diagnostics_channel';
import {
  type CallContext,
  clientCallChannel,
  Kind,
  RpcError,
  RpcStatus,
  type Serializer,
} from '../src';
import {
  afterTest,
  bytes,
  closedPort,
  deferred,
  rejection,
  startClient,
  startRawServer,
  startServer,
  until,
  within,
} from './helpers/client-harness';

/** A server whose `meta` method answers the metadata it received (as JSON). */
async function metadataServer() {
  return startServer({
    meta: (_request: Buffer, context: CallContext) =>
      bytes(JSON.stringify({ ...context.metadata })),
    echo: (request: Buffer) => Buffer.from(request),
  });
}

describe('interceptors and metadata', () => {
  it('runs interceptors in the order added, around the call, and sends the metadata they set', async () => {
    const server = await metadataServer();
    const client = startClient(server.address);
    const order: string[] = [];
    client
      .use(async (context, next) => {
        order.push(`first before ${context.method}`);
        context.metadata.traceparent = '00-abc-01';
        const response = await next();
        order.push('first after');
        return response;
      })
      .use(async (context, next) => {
        order.push(`second before, sees traceparent ${context.metadata.traceparent}`);
        context.metadata['x-user'] = 'ann';
        const response = await next();
        order.push('second after');
        return response;
      });
    const answer = await client.call('meta', bytes(''), { metadata: { 'x-call': 'c1' } });
    expect(JSON.parse(String(answer))).toEqual({
      'x-call': 'c1',
      traceparent: '00-abc-01',
      'x-user': 'ann',
    });
    expect(order).toEqual([
      'first before meta',
      'second before, sees traceparent 00-abc-01',
      'second after',
      'first after',
    ]);
  });

  it('lets an interceptor answer, change the response, or fail the call without sending it', async () => {
    const raw = await startRawServer((connection, message) => {
      if (message.kind === Kind.REQUEST) {
        connection.send({ kind: Kind.RESPONSE, seq: message.seq, payload: message.payload });
      }
    });
    const client = startClient(raw.address);
    const refusal = new Error('not allowed');
    client.use((context, next) => {
      if (context.method === 'cached') return bytes('from cache');
      if (context.method === 'forbidden') throw refusal;
      return next().then((response) => Buffer.concat([response as Buffer, bytes('+')]));
    });
    expect(String(await client.call('cached', bytes('x')))).toBe('from cache');
    expect(await rejection(client.call('forbidden', bytes('x')))).toBe(refusal);
    expect(String(await client.call('sent', bytes('x')))).toBe('x+');
    expect(raw.requests().map((request) => request.method)).toEqual(['sent']);
  });

  it('sends call metadata as given and refuses metadata the wire cannot carry', async () => {
    const server = await metadataServer();
    const client = startClient(server.address);
    const metadata = { 'x-tenant': 'zürich', empty: '' };
    expect(JSON.parse(String(await client.call('meta', bytes(''), { metadata })))).toEqual(
      metadata,
    );
    expect(JSON.parse(String(await client.call('meta', bytes(''))))).toEqual({});
    const badKey = await rejection(client.call('meta', bytes(''), { metadata: { 'a b': 'x' } }));
    expect(badKey).toBeInstanceOf(TypeError);
    expect(badKey.code).toBe('ERR_NETPOLL_INVALID_ARG');
    expect(badKey.message).toBe(
      'options.metadata key must be 1 to 255 printable ASCII characters (received "a b")',
    );
    const badValue = await rejection(
      client.call('meta', bytes(''), { metadata: { n: 1 as unknown as string } }),
    );
    expect(badValue.code).toBe('ERR_NETPOLL_INVALID_ARG');
    expect(badValue.message).toBe('options.metadata.n must be a string (received 1)');
  });

  it('refuses a non-function interceptor', () => {
    const client = startClient('127.0.0.1:1');
    expect(() => client.use('nope' as never)).toThrow(
      expect.objectContaining({
        code: 'ERR_NETPOLL_INVALID_ARG',
        message: 'interceptor must be a function (received "nope")',
      }),
    );
  });
});

describe('methods', () => {
  it('sends each call under its own method, whichever method the call before it named', async () => {
    const server = await startServer({
      alpha: (request: Buffer) => bytes(`alpha:${request}`),
      beta: (request: Buffer) => bytes(`beta:${request}`),
      gamma: (request: Buffer) => bytes(`gamma:${request}`),
    });
    const client = startClient(server.address);
    const sequence = ['alpha', 'beta', 'beta', 'alpha', 'gamma', 'alpha'];
    const answers: string[] = [];
    for (const [index, method] of sequence.entries()) {
      answers.push(String(await client.call(method, bytes(String(index)))));
    }
    expect(answers).toEqual(sequence.map((method, index) => `${method}:${index}`));
    // And interleaved within one tick, on the same connections.
    const concurrent = await Promise.all(
      sequence.map((method, index) => client.call(method, bytes(`c${index}`))),
    );
    expect(concurrent.map(String)).toEqual(sequence.map((method, index) => `${method}:c${index}`));
  });
});

describe('one-way calls', () => {
  it('sends ONE_WAY, resolves once written, and the server runs the handler without answering', async () => {
    const ran = deferred<string>();
    const server = await startServer({
      notify: (request: Buffer, context: CallContext) => {
        ran.resolve(`${request.toString()} oneWay=${context.oneWay}`);
      },
    });
    const client = startClient(server.address);
    await expect(client.oneWay('notify', bytes('hello'))).resolves.toBeUndefined();
    expect(await within(ran.promise, 5000, 'the one-way handler')).toBe('hello oneWay=true');
    expect(client.stats().calls).toMatchObject({ started: 1, succeeded: 1, inFlight: 0 });

    const raw = await startRawServer();
    const rawClient = startClient(raw.address);
    await rawClient.oneWay('fire', bytes('and forget'));
    const [message] = await (await raw.connection(0)).received(1);
    expect(message).toMatchObject({ kind: Kind.ONE_WAY, method: 'fire' });
    expect(String(message!.payload)).toBe('and forget');
  });

  it.each(['mux', 'pool'] as const)(
    '%s: resolves only once the request is handed to the socket: a destroy() right after loses nothing',
    async (transport) => {
      const raw = await startRawServer();
      for (let i = 0; i < 5; i++) {
        const client = startClient(raw.address, { transport, connections: 1 });
        await client.oneWay('fire', bytes(`note ${i}`));
        client.destroy();
      }
      const received = await Promise.all(
        [0, 1, 2, 3, 4].map(async (i) => (await (await raw.connection(i)).received(1))[0]!),
      );
      expect(received.map((message) => String(message.payload))).toEqual(
        [0, 1, 2, 3, 4].map((i) => `note ${i}`),
      );
    },
  );

  it('rejects a one-way call that cannot be sent', async () => {
    const client = startClient(await closedPort(), { ejectAfter: 1 });
    const error = await rejection(client.oneWay('fire', bytes('')));
    expect(error.code).toBe('ERR_NETPOLL_RPC_UNAVAILABLE');
    expect(error.processed).toBe(false);
  });
});

describe('serializers', () => {
  it("'json' sends and receives JSON values", async () => {
    const server = await startServer(
      { add: (request: { a: number; b: number }) => ({ sum: request.a + request.b, ok: true }) },
      { serializer: 'json' },
    );
    const client = startClient(server.address, { serializer: 'json' });
    expect(await client.call('add', { a: 2, b: 40 })).toEqual({ sum: 42, ok: true });
    const raw = await startRawServer((connection, message) => {
      if (message.kind === Kind.REQUEST) {
        connection.send({ kind: Kind.RESPONSE, seq: message.seq, payload: message.payload });
      }
    });
    const rawClient = startClient(raw.address, { serializer: 'json' });
    expect(await rawClient.call('echo', undefined)).toBeNull();
    expect(await rawClient.call('echo', ['x', 1, { y: null }])).toEqual(['x', 1, { y: null }]);
    expect(raw.requests().map((request) => String(request.payload))).toEqual([
      'null',
      '["x",1,{"y":null}]',
    ]);
  });

  it("'json' writes its text as UTF-8 in place, next to the header and above 4 KiB", async () => {
    const server = await startServer(
      {
        echo: (request: { text: string }) => ({ text: request.text, length: request.text.length }),
      },
      { serializer: 'json' },
    );
    const client = startClient(server.address, { serializer: 'json' });
    const small = 'é😀✓'.repeat(100); // multi-byte characters, inline (under 4 KiB)
    const large = `${'ü'.repeat(3000)}😀${'a'.repeat(3000)}`; // about 9 KiB: written after the header
    for (const text of [small, large, '']) {
      expect(await client.call('echo', { text })).toEqual({ text, length: text.length });
    }
    // The bytes on the wire are JSON's UTF-8 text, exactly.
    const raw = await startRawServer((connection, message) => {
      if (message.kind === Kind.REQUEST) {
        connection.send({ kind: Kind.RESPONSE, seq: message.seq, payload: message.payload });
      }
    });
    const rawClient = startClient(raw.address, { serializer: 'json' });
    expect(await rawClient.call('echo', { large })).toEqual({ large });
    expect(raw.requests()[0]!.payload).toEqual(Buffer.from(JSON.stringify({ large }), 'utf8'));
  });

  it('takes a string from a serializer and refuses anything but bytes or a string', async () => {
    const text: Serializer<string> = {
      encode: (value) => value,
      decode: (view) => view.toString('utf8'),
    };
    const numeric = { encode: () => 42, decode: (view: Buffer) => view } as unknown as Serializer;
    const server = await startServer(
      { echo: (request: string) => `${request}!` },
      { serializer: text as Serializer<never> },
    );
    const client = startClient(server.address, { serializer: text as Serializer<never> });
    expect(await client.call('echo', 'grüß')).toBe('grüß!');
    const badClient = startClient(server.address, { serializer: numeric });
    const refused = await rejection(badClient.call('echo', 'x'));
    expect(refused.code).toBe('ERR_NETPOLL_RPC_SERIALIZATION');
    expect(refused.processed).toBe(false);
    expect((refused.cause as { code?: string }).code).toBe('ERR_NETPOLL_INVALID_ARG');
    // A server whose serializer returns a number answers INTERNAL, naming the encoding.
    const badServer = await startServer({ bad: () => 'x' }, { serializer: numeric });
    const answered = await rejection(startClient(badServer.address).call('bad', bytes('x')));
    expect(answered.code).toBe('ERR_NETPOLL_RPC_REMOTE');
    expect(answered.remoteCode).toBe('INTERNAL');
    expect(answered.message).toContain('the response could not be encoded');
  });

  it('uses a serializer object for both directions', async () => {
    const upper: Serializer<string> = {
      encode: (value) => Buffer.from(value.toUpperCase()),
      decode: (view) => `decoded:${view.toString()}`,
    };
    const server = await metadataServer();
    const client = startClient(server.address, { serializer: upper as Serializer<never> });
    expect(await client.call('echo', 'shout')).toBe('decoded:SHOUT');
  });

  it('fails with ERR_NETPOLL_RPC_SERIALIZATION when the request cannot be encoded (processed false)', async () => {
    const server = await metadataServer();
    const client = startClient(server.address, { serializer: 'json' });
    const error = await rejection(client.call('echo', { big: 1n }));
    expect(error).toBeInstanceOf(RpcError);
    expect(error.code).toBe('ERR_NETPOLL_RPC_SERIALIZATION');
    expect(error.message).toBe('could not encode the request of echo');
    expect(error.processed).toBe(false);
    expect(error.cause).toBeInstanceOf(TypeError);
    const rawClient = startClient(server.address);
    const notBytes = await rejection(rawClient.call('echo', 'a string'));
    expect(notBytes.code).toBe('ERR_NETPOLL_RPC_SERIALIZATION');
    expect((notBytes.cause as { code?: string }).code).toBe('ERR_NETPOLL_INVALID_ARG');
  });

  it('fails with ERR_NETPOLL_RPC_SERIALIZATION when the response cannot be decoded (processed true)', async () => {
    const raw = await startRawServer((connection, message) => {
      if (message.kind === Kind.REQUEST) {
        connection.send({ kind: Kind.RESPONSE, seq: message.seq, payload: bytes('{broken') });
      }
    });
    const client = startClient(raw.address, { serializer: 'json' });
    const error = await rejection(client.call('m', {}));
    expect(error.code).toBe('ERR_NETPOLL_RPC_SERIALIZATION');
    expect(error.message).toBe('could not decode the response of m');
    expect(error.processed).toBe(true);
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });
});

describe('frame size', () => {
  it('round-trips a 1 MiB payload', async () => {
    const server = await metadataServer();
    const client = startClient(server.address);
    const payload = Buffer.alloc(1024 * 1024, 7);
    payload.write('start', 0);
    payload.write('end', payload.length - 3);
    const answer = (await client.call('echo', payload)) as Buffer;
    expect(answer.equals(payload)).toBe(true);
  });

  it.each(['mux', 'pool'] as const)(
    'refuses a request over maxFrameSize with ERR_NETPOLL_RPC_FRAME_TOO_LARGE, also before the connection is open (%s)',
    async (transport) => {
      const server = await startServer(
        { echo: (request: Buffer) => Buffer.from(request) },
        { maxFrameSize: 1024 },
      );
      const client = startClient(server.address, { transport, maxFrameSize: 1024, timeout: 5000 });
      // Header: 6 + 1 + "echo" + 4 (deadline) = 15 bytes; 1009 payload bytes fill the frame.
      const tooLarge = rejection(client.call('echo', Buffer.alloc(1010)));
      const fits = client.call('echo', Buffer.alloc(1009, 1));
      const error = await tooLarge;
      expect(error.code).toBe('ERR_NETPOLL_RPC_FRAME_TOO_LARGE');
      expect(error.message).toBe('a message of 1025 bytes exceeds maxFrameSize (1024)');
      expect(error.processed).toBe(false);
      expect(((await fits) as Buffer).length).toBe(1009);
      // Once connected too, and the connection stays usable.
      expect((await rejection(client.call('echo', Buffer.alloc(1010)))).code).toBe(
        'ERR_NETPOLL_RPC_FRAME_TOO_LARGE',
      );
      expect(String(await client.call('echo', bytes('small')))).toBe('small');
    },
  );
});

describe('stats()', () => {
  it('counts calls, errors by code, latency and describes each endpoint', async () => {
    const server = await startServer({
      ok: () => bytes(''),
      fail: () => {
        throw new RpcStatus('NOPE');
      },
    });
    const down = await closedPort();
    const client = startClient([server.address, down], { connections: 1 });
    expect(client.stats()).toMatchObject({
      calls: { started: 0, succeeded: 0, failed: 0, inFlight: 0, errors: {} },
    });
    await Promise.all([client.call('ok', bytes('')), client.call('ok', bytes(''))]);
    for (let i = 0; i < 3; i++) await client.call('ok', bytes(''));
    await rejection(client.call('fail', bytes('')));
    await rejection(client.call('fail', bytes('')));
    await rejection(client.call('ok', bytes(''), { timeout: 1, signal: AbortSignal.abort() }));
    const stats = client.stats();
    expect(stats.calls).toMatchObject({
      started: 7,
      succeeded: 5,
      failed: 2,
      inFlight: 0,
      errors: { ERR_NETPOLL_RPC_REMOTE: 2 },
    });
    expect(stats.calls.latency.count).toBe(7);
    expect(stats.calls.latency.max).toBeGreaterThan(0);
    expect(stats.calls.latency.p50).toBeLessThanOrEqual(stats.calls.latency.p99);
    expect(stats.endpoints).toEqual([
      {
        address: server.address,
        connections: 1,
        pending: 0,
        waiting: 0,
        failures: 0,
        ejected: false,
      },
      expect.objectContaining({ address: down, connections: 0, pending: 0, waiting: 0 }),
    ]);
    expect(stats.endpoints[1]!.failures).toBeGreaterThanOrEqual(1);
  });

  it('counts the calls in flight and the calls waiting at an endpoint', async () => {
    const release = deferred();
    const server = await startServer({ hold: () => release.promise.then(() => bytes('')) });
    const client = startClient(server.address, { transport: 'pool', pool: { maxActive: 1 } });
    const calls = [client.call('hold', bytes('')), client.call('hold', bytes(''))];
    await until(() => client.stats().endpoints[0]?.connections === 1, 'connected');
    expect(client.stats().calls.inFlight).toBe(2);
    expect(client.stats().endpoints[0]).toMatchObject({ pending: 2, waiting: 1 });
    release.resolve();
    await Promise.all(calls);
    expect(client.stats().endpoints[0]).toMatchObject({ pending: 0, waiting: 0 });
  });
});

describe('tracing channel netpoll:rpc:client:call', () => {
  it('publishes start, then asyncEnd or error, with the endpoint and attempt', async () => {
    const server = await startServer({
      ok: () => bytes('fine'),
      fail: () => {
        throw new RpcStatus('BAD', 'bad request');
      },
    });
    const client = startClient(server.address);
    const events: Array<{ event: string; message: Record<string, unknown> }> = [];
    const handlers = {
      start: (message: unknown) =>
        events.push({ event: 'start', message: { ...(message as object) } }),
      end: () => {},
      asyncStart: () => {},
      asyncEnd: (message: unknown) =>
        events.push({ event: 'asyncEnd', message: { ...(message as object) } }),
      error: (message: unknown) =>
        events.push({ event: 'error', message: { ...(message as object) } }),
    };
    // The package's channel is the one any subscriber gets by name.
    expect(tracingChannel('netpoll:rpc:client:call').start).toBe(clientCallChannel.start);
    clientCallChannel.subscribe(handlers);
    afterTest(() => clientCallChannel.unsubscribe(handlers));
    await client.call('ok', bytes('req'), { metadata: { k: 'v' } });
    await rejection(client.call('fail', bytes('')));
    expect(events.map((entry) => entry.event)).toEqual(['start', 'asyncEnd', 'start', 'error']);
    expect(events[0]!.message).toMatchObject({
      method: 'ok',
      request: bytes('req'),
      metadata: { k: 'v' },
    });
    expect(events[1]!.message).toMatchObject({
      method: 'ok',
      endpoint: server.address,
      attempt: 1,
      result: bytes('fine'),
    });
    expect(events[3]!.message).toMatchObject({
      method: 'fail',
      endpoint: server.address,
      attempt: 1,
    });
    expect((events[3]!.message.error as RpcError).remoteCode).toBe('BAD');
  });
});
