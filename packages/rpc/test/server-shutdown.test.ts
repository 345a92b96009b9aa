/**
 * Graceful `server.close()`: each connection answers every request it read, sends a GOAWAY whose
 * seq is the highest request read, answers nothing beyond it, and ends with a clean EOF (no
 * reset); `close()` is idempotent and `Symbol.asyncDispose` is `close()`. Also: a request that
 * arrives with the client's EOF (half-close) still gets its reply.
 */
import { connect } from 'node:net';
import { type CallContext, createServer, Kind, type Message } from '../src';
import {
  afterTest,
  deferred,
  destroyAfterTest,
  rejection,
  startServer,
  waitInFlight,
} from './helpers/server';
import { WireClient } from './helpers/wire-client';

const isGoaway = (message: Message) => message.kind === Kind.GOAWAY;

describe('graceful server.close()', () => {
  it('closes what is left at the timeout: running calls see CONNECTION_CLOSED', async () => {
    const reason = deferred<string>();
    const server = await startServer({
      async forever(_request: Buffer, context: CallContext) {
        context.signal.addEventListener('abort', () =>
          reason.resolve((context.signal.reason as { code: string }).code),
        );
        await new Promise(() => {});
      },
    });
    const client = await WireClient.connect(server.address);
    client.request('forever', '');
    await waitInFlight(server, 1);
    await server.close({ timeout: 20 });
    expect(await reason.promise).toBe('CONNECTION_CLOSED');
    const ending = await client.closed;
    expect(client.replies().size).toBe(0);
    expect(client.received.filter(isGoaway).map((message) => message.seq)).toEqual([1]);
    expect(ending.error?.code ?? 'EOF').toMatch(/^(EOF|ECONNRESET)$/);
  });

  it('rejects with an AbortError when its signal aborts, after closing everything', async () => {
    const server = await startServer({ forever: () => new Promise(() => {}) });
    const client = await WireClient.connect(server.address);
    client.request('forever', '');
    await waitInFlight(server, 1);
    const controller = new AbortController();
    const closing = server.close({ timeout: 60_000, signal: controller.signal });
    await client.waitFor(isGoaway, 'the GOAWAY');
    controller.abort(new Error('enough'));
    const error = await rejection(closing);
    expect([error.name, error.code]).toEqual(['AbortError', 'ABORT_ERR']);
    await client.closed;
  });

  it('returns the same promise when called twice, and from Symbol.asyncDispose', async () => {
    const server = await startServer({ echo: (request: Buffer) => Buffer.from(request) });
    const first = server.close();
    expect(server.close()).toBe(first);
    expect(server.close({ timeout: 1 })).toBe(first);
    expect(server[Symbol.asyncDispose]()).toBe(first);
    await first;
  });

  it('Symbol.asyncDispose closes the server: new connections are refused', async () => {
    const server = createServer({ echo: (request: Buffer) => Buffer.from(request) });
    afterTest(() => server.close({ timeout: 200 }));
    await server.listen('127.0.0.1:0');
    const client = await WireClient.connect(server.address);
    expect((await client.call('echo', 'x')).payload.toString()).toBe('x');
    const [host, port] = [server.address.split(':')[0]!, Number(server.address.split(':')[1])];
    await server[Symbol.asyncDispose]();
    expect(await client.closed).toEqual({ eof: true, error: null });
    const refused = await new Promise<string | undefined>((resolve) => {
      const socket = destroyAfterTest(connect({ host, port }));
      socket.once('connect', () => resolve('connected'));
      socket.once('error', (error: Error & { code?: string }) => resolve(error.code));
    });
    expect(refused).toBe('ECONNREFUSED');
  });

  it('close() before listen() resolves; listen() after close() fails with ERR_NETPOLL_RPC_CLOSED', async () => {
    const server = createServer({ echo: (request: Buffer) => Buffer.from(request) });
    await server.close();
    const error = await rejection(server.listen('127.0.0.1:0'));
    expect(error.code).toBe('ERR_NETPOLL_RPC_CLOSED');
    expect(error.message).toBe('the server is closed');
  });
});
