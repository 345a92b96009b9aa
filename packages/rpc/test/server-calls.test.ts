/**
 * The server over real sockets, driven by a raw client speaking the wire format: concurrent calls
 * answered out of order and matched by seq, the errors the server itself answers, handler errors,
 * serializers, one-way calls and pings.
 */
import { createHash } from 'node:crypto';
import * as mcache from '@netpoll/mcache';
import { type CallContext, Kind, RpcStatus, type Serializer } from '../src';
import { deferred, startServer, until } from './helpers/server';
import { WireClient } from './helpers/wire-client';

describe('server calls', () => {
  it('runs calls of one connection concurrently and answers them out of order, by seq', async () => {
    const gates = new Map<string, ReturnType<typeof deferred<void>>>();
    const started: string[] = [];
    const server = await startServer({
      async work(request: Buffer) {
        const name = request.toString();
        const gate = deferred();
        gates.set(name, gate);
        started.push(name);
        await gate.promise;
        return Buffer.from(`done ${name}`);
      },
    });
    const client = await WireClient.connect(server.address);
    const frames = ['a', 'b', 'c', 'd', 'e'].map((name) => client.requestFrame('work', name));
    client.write(Buffer.concat(frames.map(({ frame }) => frame)));
    await until(() => started.length === 5, 'all five handlers running at once');
    expect(started).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(client.received).toEqual([]);

    // Release in reverse order, one at a time: each reply must carry its own request's seq.
    for (const [index, name] of [...started.entries()].reverse()) {
      gates.get(name)!.resolve();
      const reply = await client.reply(frames[index]!.seq);
      expect(reply).toEqual({
        kind: Kind.RESPONSE,
        seq: frames[index]!.seq,
        payload: Buffer.from(`done ${name}`),
      });
    }
    expect(client.received.map((message) => message.seq)).toEqual([5, 4, 3, 2, 1]);
  });

  it('answers many pipelined calls, each with its own payload', async () => {
    const server = await startServer({
      async sha(request: Buffer) {
        await new Promise((resolve) => setImmediate(resolve));
        return createHash('sha256').update(request).digest();
      },
    });
    const client = await WireClient.connect(server.address);
    const payloads = Array.from({ length: 200 }, (_, i) => Buffer.alloc(i * 37, i));
    const seqs = payloads.map((payload) => client.request('sha', payload));
    const replies = await Promise.all(seqs.map((seq) => client.reply(seq)));
    replies.forEach((reply, i) => {
      expect(reply.kind).toBe(Kind.RESPONSE);
      expect(reply.payload.equals(createHash('sha256').update(payloads[i]!).digest())).toBe(true);
    });
  });

  it('gives the pooled copy of each raw request back once its call ended', async () => {
    const server = await startServer({ echo: (request: Buffer) => Buffer.from(request) });
    const client = await WireClient.connect(server.address);
    await client.call('echo', 'warm');
    const before = mcache.stats().liveBuffers;
    for (let i = 0; i < 50; i++) {
      expect((await client.call('echo', `request ${i}`)).payload.toString()).toBe(`request ${i}`);
    }
    expect(mcache.stats().liveBuffers).toBe(before);
  });

  it('passes a large request whole and sends a large response whole (above 4 KiB)', async () => {
    const server = await startServer({
      double: (request: Buffer) => Buffer.concat([request, request]),
    });
    const client = await WireClient.connect(server.address);
    const payload = Buffer.alloc(300_000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 13) % 251;
    const reply = await client.call('double', payload);
    expect(reply.kind).toBe(Kind.RESPONSE);
    expect(reply.payload.equals(Buffer.concat([payload, payload]))).toBe(true);
  });

  it('echoes requests above 4 KiB returned as their own responses, all read in one turn', async () => {
    // The response is the pooled request itself, which the writer links instead of copying: it
    // must outlive the turn's next requests, which are copied into pooled memory too.
    const server = await startServer({ echo: (request: Buffer) => request });
    const client = await WireClient.connect(server.address);
    const payloads = Array.from({ length: 16 }, (_, i) => {
      const payload = Buffer.alloc(5000 + i * 100);
      for (let j = 0; j < payload.length; j++) payload[j] = (i * 31 + j * 7) % 256;
      return payload;
    });
    const frames = payloads.map((payload) => client.requestFrame('echo', payload));
    client.write(Buffer.concat(frames.map(({ frame }) => frame)));
    for (const [i, { seq }] of frames.entries()) {
      const reply = await client.reply(seq);
      expect(reply.kind).toBe(Kind.RESPONSE);
      expect(reply.payload.equals(payloads[i]!)).toBe(true);
    }
  });

  it('sends each reply as its handler returned it, though the handler reuses one large Buffer', async () => {
    // A reply is copied when it is written: the next call may overwrite the handler's Buffer.
    const scratch = Buffer.alloc(5000);
    const server = await startServer({
      fill: (request: Buffer) => scratch.fill(request[0]!),
    });
    const client = await WireClient.connect(server.address);
    const frames = [1, 2, 3, 4].map((byte) => client.requestFrame('fill', Buffer.from([byte])));
    client.write(Buffer.concat(frames.map(({ frame }) => frame)));
    for (const [i, { seq }] of frames.entries()) {
      const reply = await client.reply(seq);
      expect(reply.payload.equals(Buffer.alloc(5000, i + 1))).toBe(true);
    }
  });

  it('gives the handler the method, metadata and peer address; no deadline means Infinity', async () => {
    const seen = deferred<Record<string, unknown>>();
    const server = await startServer({
      inspect(_request: Buffer, context: CallContext) {
        seen.resolve({
          method: context.method,
          metadata: { ...context.metadata },
          remoteAddress: context.remoteAddress,
          timeRemaining: context.timeRemaining(),
          deadlineTime: context.deadlineTime,
          oneWay: context.oneWay,
        });
        return Buffer.from('ok');
      },
    });
    const client = await WireClient.connect(server.address);
    await client.call('inspect', '', { metadata: { traceparent: '00-abc', user: 'zoë' } });
    expect(await seen.promise).toEqual({
      method: 'inspect',
      metadata: { traceparent: '00-abc', user: 'zoë' },
      remoteAddress: `127.0.0.1:${client.socket.localPort}`,
      timeRemaining: Number.POSITIVE_INFINITY,
      deadlineTime: Number.POSITIVE_INFINITY,
      oneWay: false,
    });
  });

  it('answers an unknown method UNIMPLEMENTED without running anything', async () => {
    const server = await startServer({ known: () => Buffer.from('x') });
    const client = await WireClient.connect(server.address);
    const reply = await client.call('nope', 'payload');
    expect(reply).toEqual({
      kind: Kind.ERROR,
      seq: 1,
      code: 'UNIMPLEMENTED',
      message: 'no method "nope"',
      refused: true,
      payload: Buffer.alloc(0),
    });
    // A name that shares the length of a known one is still unknown.
    expect((await client.call('knowN', '')).code).toBe('UNIMPLEMENTED');
    expect((await client.call('known', '')).kind).toBe(Kind.RESPONSE);
  });

  it('answers an RpcStatus thrown or rejected by a handler with its code and message', async () => {
    const server = await startServer({
      sync() {
        throw new RpcStatus('NOT_FOUND', 'no such key');
      },
      async rejected() {
        await Promise.resolve();
        throw new RpcStatus('PERMISSION_DENIED', 'ask an admin');
      },
      empty() {
        throw new RpcStatus('GONE');
      },
    });
    const client = await WireClient.connect(server.address);
    const sync = await client.call('sync', '');
    expect([sync.kind, sync.code, sync.message]).toEqual([Kind.ERROR, 'NOT_FOUND', 'no such key']);
    const rejected = await client.call('rejected', '');
    expect([rejected.code, rejected.message]).toEqual(['PERMISSION_DENIED', 'ask an admin']);
    const empty = await client.call('empty', '');
    expect([empty.code, empty.message]).toEqual(['GONE', '']);
  });

  it('cuts a message longer than the wire allows before a character, keeping it valid UTF-8', async () => {
    const server = await startServer({
      long() {
        throw new RpcStatus('APP', 'é'.repeat(40_000)); // 80000 bytes; the field holds 65535
      },
    });
    const client = await WireClient.connect(server.address);
    const reply = await client.call('long', '');
    expect(reply.code).toBe('APP');
    expect(reply.message).toBe('é'.repeat(32_767)); // 65534 bytes: the next é would not fit
  });

  it('answers other handler errors INTERNAL with a generic message', async () => {
    const server = await startServer({
      throws() {
        throw new Error('secret database password in this message');
      },
      async rejects() {
        throw new TypeError('also secret');
      },
      rejectsWithString: () => Promise.reject('a string'),
    });
    const client = await WireClient.connect(server.address);
    for (const method of ['throws', 'rejects', 'rejectsWithString']) {
      const reply = await client.call(method, '');
      expect([reply.kind, reply.code, reply.message]).toEqual([
        Kind.ERROR,
        'INTERNAL',
        'internal error',
      ]);
    }
  });

  it('answers other handler errors INTERNAL with their message when exposeErrors is set', async () => {
    const server = await startServer(
      {
        throws() {
          throw new Error('the disk is full');
        },
        rejectsWithString: () => Promise.reject('a string'),
      },
      { exposeErrors: true },
    );
    const client = await WireClient.connect(server.address);
    const thrown = await client.call('throws', '');
    expect([thrown.code, thrown.message]).toEqual(['INTERNAL', 'the disk is full']);
    const string = await client.call('rejectsWithString', '');
    expect([string.code, string.message]).toEqual(['INTERNAL', 'a string']);
  });

  it('answers INTERNAL when a handler returns a non-Buffer with the raw serializer', async () => {
    const service = {
      text: () => 'internal row: ssn=123',
      nothing: async () => undefined,
    };
    // The encoder's message quotes the value: only with exposeErrors does it leave the server.
    const hidden = await WireClient.connect((await startServer(service)).address);
    for (const method of ['text', 'nothing']) {
      const reply = await hidden.call(method, '');
      expect([reply.code, reply.message]).toEqual([
        'INTERNAL',
        'the response could not be encoded',
      ]);
    }
    const exposed = await WireClient.connect(
      (await startServer(service, { exposeErrors: true })).address,
    );
    const text = await exposed.call('text', '');
    expect([text.code, text.message]).toEqual([
      'INTERNAL',
      'the response could not be encoded: payload must be a Buffer or Uint8Array (received "internal row: ssn=123")',
    ]);
    const nothing = await exposed.call('nothing', '');
    expect([nothing.code, nothing.message]).toEqual([
      'INTERNAL',
      'the response could not be encoded: payload must be a Buffer or Uint8Array (received undefined)',
    ]);
  });

  it('accepts any Uint8Array as a raw response', async () => {
    const server = await startServer({ bytes: () => Uint8Array.of(1, 2, 3) });
    const client = await WireClient.connect(server.address);
    expect((await client.call('bytes', '')).payload).toEqual(Buffer.of(1, 2, 3));
  });

  it('answers INTERNAL when the response is larger than maxFrameSize', async () => {
    const server = await startServer(
      { big: () => Buffer.alloc(2000), fits: () => Buffer.alloc(1018) },
      { maxFrameSize: 1024 },
    );
    const client = await WireClient.connect(server.address);
    const big = await client.call('big', '');
    expect([big.code, big.message]).toEqual([
      'INTERNAL',
      'a message of 2006 bytes exceeds maxFrameSize (1024)',
    ]);
    // The handler ran: the error must not say REFUSED, which tells a client the call never ran
    // (processed: false), so that it or its caller may safely send it again.
    expect(big.refused).toBeUndefined();
    // 6 header bytes + 1018 = 1024: the largest response that fits.
    expect((await client.call('fits', '')).payload.length).toBe(1018);
  });

  it('decodes requests and encodes responses as JSON with the json serializer', async () => {
    const requests: unknown[] = [];
    const server = await startServer(
      {
        add(request: { a: number; b: number }) {
          requests.push(request);
          return { sum: request.a + request.b, text: 'ü' };
        },
        nothing: () => undefined,
      },
      { serializer: 'json' },
    );
    const client = await WireClient.connect(server.address);
    const reply = await client.call('add', JSON.stringify({ a: 2, b: 40 }));
    expect(reply.kind).toBe(Kind.RESPONSE);
    expect(reply.payload.toString('utf8')).toBe('{"sum":42,"text":"ü"}');
    expect(requests).toEqual([{ a: 2, b: 40 }]);
    expect((await client.call('nothing', 'null')).payload.toString()).toBe('null');
  });

  it('answers INVALID_ARGUMENT without running the handler when the request cannot be decoded', async () => {
    let runs = 0;
    const server = await startServer(
      {
        add: () => {
          runs++;
          return 1;
        },
      },
      { serializer: 'json' },
    );
    const client = await WireClient.connect(server.address);
    const reply = await client.call('add', '{not json');
    expect(reply.kind).toBe(Kind.ERROR);
    expect(reply.code).toBe('INVALID_ARGUMENT');
    expect(reply.message).toMatch(/^the request could not be decoded: .*JSON/);
    expect(runs).toBe(0);
    expect((await server.stats()).calls.errors).toEqual({ INVALID_ARGUMENT: 1 });
  });

  it('uses per-method serializers over the server default', async () => {
    const upper: Serializer<string> = {
      encode: (value) => Buffer.from(value.toUpperCase(), 'latin1'),
      decode: (bytes) => bytes.toString('latin1'),
    };
    const server = await startServer({
      shout: {
        handler: (text: string) => `${text}!`,
        requestSerializer: upper,
        responseSerializer: upper,
      },
      count: {
        handler: (request: number[]) => request.length,
        requestSerializer: 'json',
        responseSerializer: 'json',
      },
      raw: (request: Buffer) => Buffer.from(request.reverse()),
    });
    const client = await WireClient.connect(server.address);
    expect((await client.call('shout', 'hey')).payload.toString()).toBe('HEY!');
    expect((await client.call('count', '[1,2,3]')).payload.toString()).toBe('3');
    expect((await client.call('raw', Buffer.of(1, 2, 3))).payload).toEqual(Buffer.of(3, 2, 1));
    const invalid = await client.call('count', '[');
    expect(invalid.code).toBe('INVALID_ARGUMENT');
  });

  it('answers INVALID_ARGUMENT when a custom decoder throws, INTERNAL when its encoder does', async () => {
    const failing: Serializer<string> = {
      encode: () => {
        throw new Error('cannot encode');
      },
      decode: (bytes) => {
        if (bytes.length === 0) throw new Error('empty request');
        return bytes.toString();
      },
    };
    const server = await startServer({
      m: {
        handler: (text: string) => text,
        requestSerializer: failing,
        responseSerializer: failing,
      },
    });
    const client = await WireClient.connect(server.address);
    const decode = await client.call('m', '');
    expect([decode.code, decode.message]).toEqual([
      'INVALID_ARGUMENT',
      'the request could not be decoded: empty request',
    ]);
    const encode = await client.call('m', 'x');
    expect([encode.code, encode.message]).toEqual([
      'INTERNAL',
      'the response could not be encoded',
    ]);
  });

  it('runs a one-way call and sends no reply, whatever its outcome', async () => {
    const ran: string[] = [];
    const server = await startServer({
      log(request: Buffer, context: CallContext) {
        ran.push(`${request.toString()} oneWay=${context.oneWay}`);
        return Buffer.from('ignored');
      },
      fail(request: Buffer) {
        ran.push(`fail ${request.toString()}`);
        throw new RpcStatus('NOPE');
      },
      echo: (request: Buffer) => Buffer.from(request),
    });
    const client = await WireClient.connect(server.address);
    client.request('log', 'first', { oneWay: true });
    client.request('fail', 'second', { oneWay: true });
    client.request('missing', 'third', { oneWay: true });
    const echo = client.request('echo', 'barrier');
    await client.reply(echo);
    // A ping round trip after the barrier: anything the one-way calls wrote would be here by now.
    client.send({ kind: Kind.PING, seq: 99, payload: Buffer.alloc(0) });
    await client.waitFor((message) => message.kind === Kind.PONG, 'the pong');
    expect(ran).toEqual(['first oneWay=true', 'fail second']);
    expect(client.received.map((message) => [message.kind, message.seq])).toEqual([
      [Kind.RESPONSE, echo],
      [Kind.PONG, 99],
    ]);
  });

  it('answers PING with a PONG carrying the same seq and payload', async () => {
    const server = await startServer({ echo: (request: Buffer) => Buffer.from(request) });
    const client = await WireClient.connect(server.address);
    const payload = Buffer.alloc(64);
    for (let i = 0; i < 64; i++) payload[i] = 255 - i;
    client.send({ kind: Kind.PING, seq: 0xdeadbeef, payload });
    client.send({ kind: Kind.PING, seq: 0, payload: Buffer.alloc(0) });
    const pong = await client.waitFor((message) => message.kind === Kind.PONG, 'the pong');
    expect(pong).toEqual({ kind: Kind.PONG, seq: 0xdeadbeef, payload });
    const empty = await client.waitFor(
      (message) => message.kind === Kind.PONG && message.seq === 0,
      'the second pong',
    );
    expect(empty.payload.length).toBe(0);
  });

  it('ignores a PONG and a CANCEL for a seq it does not run', async () => {
    const server = await startServer({ echo: (request: Buffer) => Buffer.from(request) });
    const client = await WireClient.connect(server.address);
    client.send({ kind: Kind.PONG, seq: 1, payload: Buffer.from('x') });
    client.send({ kind: Kind.CANCEL, seq: 12345, payload: Buffer.alloc(0) });
    const reply = await client.call('echo', 'still here', { seq: 7 });
    expect(reply.payload.toString()).toBe('still here');
  });
});
