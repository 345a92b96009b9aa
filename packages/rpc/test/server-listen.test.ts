/**
 * Where and how a server listens: TCP on a free port, a Unix socket (a path or `unix:` + path),
 * 1- and 2-byte length headers; and the argument errors of createServer() and listen().
 */
import { existsSync } from 'node:fs';
import { createServer, Kind } from '../src';
import { afterTest, rejection, startServer, tempSocketPath, thrown } from './helpers/server';
import { WireClient } from './helpers/wire-client';

const echo = { echo: (request: Buffer) => Buffer.from(request) };

describe('server.listen()', () => {
  it('listens on 127.0.0.1 with the real port in server.address', async () => {
    const server = await startServer(echo);
    expect(server.address).toMatch(/^127\.0\.0\.1:[1-9][0-9]*$/);
    const client = await WireClient.connect(server.address);
    expect((await client.call('echo', 'tcp')).payload.toString()).toBe('tcp');
  });

  it('listens on a Unix socket path; close() removes it', async () => {
    const path = tempSocketPath();
    const server = await startServer(echo, undefined, path);
    expect(server.address).toBe(path);
    const client = await WireClient.connect(path);
    expect((await client.call('echo', 'unix')).payload.toString()).toBe('unix');
    await server.close();
    expect(existsSync(path)).toBe(false);
  });

  it('listens on unix: + path', async () => {
    const path = tempSocketPath();
    const server = await startServer(echo, undefined, `unix:${path}`);
    expect(server.address).toBe(path);
    const client = await WireClient.connect(path);
    expect((await client.call('echo', 'unix:')).payload.toString()).toBe('unix:');
  });

  it.each([1, 2] as const)('speaks frames with a %i-byte length header', async (lengthHeader) => {
    const server = await startServer(echo, { lengthHeader });
    const client = await WireClient.connect(server.address, lengthHeader);
    const payload = Buffer.alloc(lengthHeader === 1 ? 200 : 60_000, 5);
    const reply = await client.call('echo', payload);
    expect(reply.payload.equals(payload)).toBe(true);
    client.send({ kind: Kind.PING, seq: 3, payload: Buffer.from('p') });
    const pong = await client.waitFor((message) => message.kind === Kind.PONG, 'the pong');
    expect(pong.payload.toString()).toBe('p');
  });

  it('with a 1-byte header, a response above 255 bytes is answered INTERNAL, not cut', async () => {
    const server = await startServer({ big: () => Buffer.alloc(250) }, { lengthHeader: 1 });
    const client = await WireClient.connect(server.address, 1);
    const reply = await client.call('big', '');
    expect([reply.code, reply.message]).toEqual([
      'INTERNAL',
      'a message of 256 bytes exceeds maxFrameSize (255)',
    ]);
  });

  it('rejects a second listen() and reading the address before listen()', async () => {
    const server = createServer(echo);
    afterTest(() => server.close({ timeout: 200 }));
    const before = thrown(() => server.address);
    expect(before.code).toBe('ERR_NETPOLL_INVALID_ARG');
    await server.listen('127.0.0.1:0');
    const second = await rejection(server.listen('127.0.0.1:0'));
    expect([second.code, second.message]).toEqual([
      'ERR_NETPOLL_INVALID_ARG',
      'listen must be called once (received "127.0.0.1:0")',
    ]);
  });
});

describe('createServer() arguments', () => {
  it.each([
    [
      'a relative module path',
      'service.js',
      'service must be a service object or an absolute module path (received "service.js")',
    ],
    ['no methods', {}, 'service must be at least one method (received an object)'],
    [
      'a method that is not a handler',
      { m: 42 },
      'service.m must be a handler function or { handler } (received 42)',
    ],
    [
      'a method name with a space',
      { 'a b': () => 1 },
      'service.a b (the method name) must be 1 to 255 printable ASCII characters (received "a b")',
    ],
    [
      'a bad serializer',
      { m: { handler: () => 1, requestSerializer: 'xml' } },
      "service.m.requestSerializer must be 'raw', 'json' or an object with encode and decode (received \"xml\")",
    ],
  ])('refuses %s', (_name, service, message) => {
    const error = thrown(() => createServer(service as never));
    expect([error.code, error.message]).toEqual(['ERR_NETPOLL_INVALID_ARG', message]);
  });

  it('refuses reactors > 1 with a service object', () => {
    const error = thrown(() => createServer(echo, { reactors: 2 }));
    expect(error.code).toBe('ERR_NETPOLL_INVALID_ARG');
    expect(error.message).toMatch(/^service must be a module path when options\.reactors > 1/);
  });

  it('refuses unknown and out-of-range options', () => {
    const unknown = thrown(() => createServer(echo, { maxConcurentCalls: 1 } as never));
    expect([unknown.code, unknown.message]).toEqual([
      'ERR_NETPOLL_INVALID_ARG',
      'options.maxConcurentCalls is not a known option (did you mean maxConcurrentCalls?)',
    ]);
    const range = thrown(() => createServer(echo, { maxConcurrentCalls: 0 }));
    expect([range.code, range.message]).toEqual([
      'ERR_NETPOLL_OUT_OF_RANGE',
      'options.maxConcurrentCalls must be an integer from 1 to 65535 (received 0)',
    ]);
    const ping = thrown(() => createServer(echo, { pausedPingInterval: -1 }));
    expect([ping.code, ping.message]).toEqual([
      'ERR_NETPOLL_OUT_OF_RANGE',
      'options.pausedPingInterval must be an integer from 0 to 2147483647 (received -1)',
    ]);
    expect(thrown(() => createServer(echo, { pausedPingInterval: 1.5 })).code).toBe(
      'ERR_NETPOLL_INVALID_ARG',
    );
    const frame = thrown(() => createServer(echo, { lengthHeader: 1, maxFrameSize: 256 }));
    expect([frame.code, frame.message]).toEqual([
      'ERR_NETPOLL_OUT_OF_RANGE',
      'options.maxFrameSize must be an integer from 64 to 255 (received 256)',
    ]);
  });
});
