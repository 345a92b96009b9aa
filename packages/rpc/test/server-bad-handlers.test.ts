/**
 * Handlers that misbehave get one well-formed reply and never take the server down: rejection
 * values that refuse String(), thenables that call back twice, results whose `then` cannot be
 * read, RpcStatus objects changed after they were made, error codes too long for the frame.
 */
import { Kind, RpcStatus } from '../src';
import { startServer } from './helpers/server';
import { WireClient } from './helpers/wire-client';

describe('handlers that misbehave', () => {
  it('a rejection value that refuses String() gets INTERNAL with exposeErrors, and the server lives on', async () => {
    const odd = Object.create(null);
    const server = await startServer(
      {
        asyncOdd: async () => {
          throw odd;
        },
        syncOdd: () => {
          throw odd;
        },
        echo: (request: Buffer) => request,
      },
      { exposeErrors: true },
    );
    const client = await WireClient.connect(server.address);
    for (const method of ['asyncOdd', 'syncOdd']) {
      const reply = await client.call(method, '');
      expect([reply.kind, reply.code, reply.message]).toEqual([
        Kind.ERROR,
        'INTERNAL',
        'a value that cannot be shown as text',
      ]);
    }
    // The same connection still answers, and no call is left counted in flight.
    expect((await client.call('echo', 'still here')).payload.toString()).toBe('still here');
    const stats = await server.stats();
    expect(stats.calls.inFlight).toBe(0);
    expect(stats.calls.errors).toEqual({ INTERNAL: 2 });
  });

  it('a thenable that calls back twice, or fails after succeeding, gets one reply', async () => {
    const server = await startServer({
      twice: () => ({
        // biome-ignore lint/suspicious/noThenProperty: a hand-made thenable is what this test is about
        then(resolve: (value: unknown) => void) {
          resolve(Buffer.from('first'));
          resolve(Buffer.from('second'));
        },
      }),
      okThenError: () => ({
        // biome-ignore lint/suspicious/noThenProperty: a hand-made thenable is what this test is about
        then(resolve: (value: unknown) => void, reject: (error: unknown) => void) {
          resolve(Buffer.from('ok'));
          reject(new Error('late'));
        },
      }),
      throwsInThen: () => ({
        // biome-ignore lint/suspicious/noThenProperty: a hand-made thenable is what this test is about
        then() {
          throw new Error('then threw');
        },
      }),
      echo: (request: Buffer) => request,
    });
    const client = await WireClient.connect(server.address);
    expect((await client.call('twice', '')).payload.toString()).toBe('first');
    expect((await client.call('okThenError', '')).payload.toString()).toBe('ok');
    const thrown = await client.call('throwsInThen', '');
    expect([thrown.kind, thrown.code]).toEqual([Kind.ERROR, 'INTERNAL']);
    expect((await client.call('echo', 'after')).payload.toString()).toBe('after');
    // One reply per request: nothing more arrived for the first three.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(client.received.map((message) => message.seq)).toEqual([1, 2, 3, 4]);
    const stats = await server.stats();
    expect([stats.calls.inFlight, stats.calls.succeeded]).toEqual([0, 3]);
  });

  it('a result whose then cannot be read, or an RpcStatus changed after it was made, gets INTERNAL; the connection lives on', async () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const changed = new RpcStatus('NOT_FOUND', 'gone');
    (changed as { status: string }).status = 'X'.repeat(300);
    const service = {
      thenThrows: () =>
        Object.defineProperty({}, 'then', {
          get() {
            throw new Error('no then');
          },
        }),
      revoked: () => proxy,
      changed: () => {
        throw changed;
      },
      numeric: () => {
        throw Object.assign(Object.create(RpcStatus.prototype), { status: 42, message: 'm' });
      },
      echo: (request: Buffer) => request,
    };
    const client = await WireClient.connect((await startServer(service)).address);
    for (const method of ['thenThrows', 'revoked', 'changed', 'numeric']) {
      const reply = await client.call(method, '');
      expect([method, reply.kind, reply.code]).toEqual([method, Kind.ERROR, 'INTERNAL']);
    }
    expect((await client.call('echo', 'alive')).payload.toString()).toBe('alive');
  });

  it('an error whose code does not fit in maxFrameSize is answered as INTERNAL, not dropped', async () => {
    const code = 'X'.repeat(250);
    const server = await startServer(
      {
        long: () => {
          throw new RpcStatus(code, 'a message');
        },
      },
      { lengthHeader: 1, maxFrameSize: 64 },
    );
    const client = await WireClient.connect(server.address, 1);
    const reply = await client.call('long', '');
    expect([reply.kind, reply.code]).toEqual([Kind.ERROR, 'INTERNAL']);
    // The message is cut to what fits: 64 bytes less the fixed fields (6), the code and message
    // lengths (3) and 'INTERNAL' (8).
    expect(reply.message).toBe(
      `the error (code ${code}) does not fit in maxFrameSize`.slice(0, 47),
    );
    // An unknown method's UNIMPLEMENTED fits the smallest frame allowed.
    const unknown = await client.call('nope', '');
    expect([unknown.kind, unknown.code]).toEqual([Kind.ERROR, 'UNIMPLEMENTED']);
  });
});
