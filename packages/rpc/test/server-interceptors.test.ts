/**
 * Server interceptors wrap every call in the order they were added: each gets the call's
 * context and `next`, and may look at the request, answer on its own (short-circuit), replace the
 * response, or refuse with an RpcStatus.
 */
import { type CallContext, createServer, Kind, RpcStatus } from '../src';
import { afterTest, startServer, thrown } from './helpers/server';
import { WireClient } from './helpers/wire-client';

describe('server interceptors', () => {
  it('run in the order added, around the handler', async () => {
    const events: string[] = [];
    const server = createServer({
      echo(request: Buffer) {
        events.push('handler');
        return Buffer.from(request);
      },
    });
    afterTest(() => server.close({ timeout: 200 }));
    server
      .use(async (context, next) => {
        events.push(`a before ${context.method} ${(context.request as Buffer).toString()}`);
        const response = await next();
        events.push(`a after ${(response as Buffer).toString()}`);
        return response;
      })
      .use(async (_context, next) => {
        events.push('b before');
        const response = await next();
        events.push('b after');
        return response;
      });
    await server.listen('127.0.0.1:0');
    const client = await WireClient.connect(server.address);
    expect((await client.call('echo', 'x')).payload.toString()).toBe('x');
    expect(events).toEqual(['a before echo x', 'b before', 'handler', 'b after', 'a after x']);
  });

  it('may answer without calling next (the handler does not run)', async () => {
    let runs = 0;
    const server = createServer({
      cached() {
        runs++;
        return Buffer.from('computed');
      },
    });
    afterTest(() => server.close({ timeout: 200 }));
    server.use((context) =>
      context.metadata['cache-control'] === 'hit' ? Buffer.from('from cache') : undefined,
    );
    await server.listen('127.0.0.1:0');
    const client = await WireClient.connect(server.address);
    const hit = await client.call('cached', '', { metadata: { 'cache-control': 'hit' } });
    expect(hit.payload.toString()).toBe('from cache');
    expect(runs).toBe(0);
    // The same interceptor returning nothing is a response of nothing: INTERNAL with raw bytes.
    const miss = await client.call('cached', '');
    expect([miss.kind, miss.code]).toEqual([Kind.ERROR, 'INTERNAL']);
    expect(runs).toBe(0);
  });

  it('may replace the response', async () => {
    const server = createServer({ echo: (request: Buffer) => Buffer.from(request) });
    afterTest(() => server.close({ timeout: 200 }));
    server.use(async (_context, next) => {
      const response = (await next()) as Buffer;
      return Buffer.concat([Buffer.from('['), response, Buffer.from(']')]);
    });
    await server.listen('127.0.0.1:0');
    const client = await WireClient.connect(server.address);
    expect((await client.call('echo', 'body')).payload.toString()).toBe('[body]');
  });

  it('may refuse with an RpcStatus, thrown or rejected; the handler does not run', async () => {
    let runs = 0;
    const server = createServer({
      secret() {
        runs++;
        return Buffer.from('secret');
      },
    });
    afterTest(() => server.close({ timeout: 200 }));
    server.use((context: CallContext, next) => {
      if (context.metadata.token === undefined) throw new RpcStatus('UNAUTHENTICATED', 'no token');
      if (context.metadata.token !== 'good') {
        return Promise.reject(new RpcStatus('PERMISSION_DENIED', 'bad token'));
      }
      return next();
    });
    await server.listen('127.0.0.1:0');
    const client = await WireClient.connect(server.address);
    const none = await client.call('secret', '');
    expect([none.code, none.message]).toEqual(['UNAUTHENTICATED', 'no token']);
    const bad = await client.call('secret', '', { metadata: { token: 'bad' } });
    expect([bad.code, bad.message]).toEqual(['PERMISSION_DENIED', 'bad token']);
    expect(runs).toBe(0);
    const good = await client.call('secret', '', { metadata: { token: 'good' } });
    expect(good.payload.toString()).toBe('secret');
    expect(runs).toBe(1);
  });

  it('sees the handler error through next() and may map it', async () => {
    const server = createServer({
      fails() {
        throw new Error('low level');
      },
    });
    afterTest(() => server.close({ timeout: 200 }));
    server.use(async (_context, next) => {
      try {
        return await next();
      } catch (error) {
        throw new RpcStatus('UNAVAILABLE', `mapped: ${(error as Error).message}`);
      }
    });
    await server.listen('127.0.0.1:0');
    const client = await WireClient.connect(server.address);
    const reply = await client.call('fails', '');
    expect([reply.code, reply.message]).toEqual(['UNAVAILABLE', 'mapped: low level']);
  });

  it('answers INTERNAL for an interceptor that throws something else', async () => {
    const server = createServer({ echo: (request: Buffer) => Buffer.from(request) });
    afterTest(() => server.close({ timeout: 200 }));
    server.use(() => {
      throw new Error('interceptor bug');
    });
    await server.listen('127.0.0.1:0');
    const client = await WireClient.connect(server.address);
    const reply = await client.call('echo', '');
    expect([reply.code, reply.message]).toEqual(['INTERNAL', 'internal error']);
  });

  it('refuses a non-function, and use() after listen()', async () => {
    const server = await startServer({ echo: (request: Buffer) => Buffer.from(request) });
    const notFunction = thrown(() => server.use('nope' as never));
    expect([notFunction.code, notFunction.message]).toEqual([
      'ERR_NETPOLL_INVALID_ARG',
      'interceptor must be a function (received "nope")',
    ]);
    const late = thrown(() => server.use(async (_context, next) => next()));
    expect([late.code, late.message]).toEqual([
      'ERR_NETPOLL_INVALID_ARG',
      'interceptor must be added before listen() (received a function)',
    ]);
  });
});
