/**
 * A multi-core server: the service is a module (test/fixtures/service-module.js) that each of
 * `reactors` worker threads loads with its interceptors; `listen('127.0.0.1:0')` creates a
 * reusePort listener the reactors share. Calls are answered by both reactors, `stats()` sums the
 * reactors' counters, and `close()` ends every reactor's connections with a GOAWAY.
 *
 * Uses the built package (dist/): the reactor threads load dist/server/reactor-handler.js.
 */
import { connect } from 'node:net';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { isNetpollError, Kind } from '../src';
import { afterTest, destroyAfterTest, eventually, rejection } from './helpers/server';
import { WireClient } from './helpers/wire-client';

const built = require('../dist') as typeof import('../src');
const kServiceModule = join(__dirname, 'fixtures', 'service-module.js');

async function startModuleServer(module: string, reactors: number) {
  const server = built.createServer(module, { reactors, shutdownTimeout: 2000 });
  afterTest(() => server.close({ timeout: 500 }).catch(() => undefined));
  await server.listen('127.0.0.1:0');
  return server;
}

describe('a server with reactors and a service module', () => {
  it('answers on both reactors, sums their stats, and closes them all', async () => {
    const server = await startModuleServer(kServiceModule, 2);
    const clients: WireClient[] = [];
    const reactors = new Map<string, WireClient>();
    // Connections spread over the reactors by the kernel's reuseport hash: open until both served.
    for (let i = 0; i < 64 && reactors.size < 2; i++) {
      const client = await WireClient.connect(server.address);
      clients.push(client);
      const reply = await client.call('whoami', '');
      expect(reply.kind).toBe(Kind.RESPONSE);
      reactors.set(reply.payload.toString(), client);
    }
    expect(reactors.size).toBe(2);
    expect([...reactors.keys()]).not.toContain(String(threadId));

    // Every method, the serializers and the module's interceptor, on each reactor.
    for (const client of reactors.values()) {
      expect((await client.call('echo', 'hello')).payload.toString()).toBe('hello');
      const added = await client.call('add', JSON.stringify({ a: 20, b: 22 }));
      expect(added.payload.toString()).toBe('{"sum":42}');
      const refused = await client.call('refuse', '');
      expect([refused.code, refused.message]).toEqual(['NOPE', 'refused by the module']);
      const blocked = await client.call('echo', 'x', { metadata: { block: 'yes' } });
      expect([blocked.code, blocked.message]).toEqual(['BLOCKED', 'by the interceptor']);
      expect((await client.call('missing', '')).code).toBe('UNIMPLEMENTED');
    }

    // whoami once per connection, then 4 started calls (echo, add, refuse, blocked) per reactor.
    const started = clients.length + 2 * 4;
    // A reactor that does not answer within 1 s is left out of a snapshot: wait for both.
    let stats = await server.stats();
    await eventually(async () => {
      stats = await server.stats();
      return stats.calls.started === started;
    }, 'both reactors in the snapshot');
    expect(stats.connections).toBe(clients.length);
    expect(stats.calls).toMatchObject({
      started,
      succeeded: started - 4,
      failed: 4,
      inFlight: 0,
      errors: { NOPE: 2, BLOCKED: 2, UNIMPLEMENTED: 2 },
    });
    expect(stats.calls.latency.count).toBe(started);

    await server.close();
    for (const client of clients) {
      expect(await client.ended()).toEqual({ eof: true, error: null });
      expect(client.received.filter((message) => message.kind === Kind.GOAWAY)).toHaveLength(1);
    }
  });

  it('serves many connections on each reactor concurrently', async () => {
    const server = await startModuleServer(kServiceModule, 2);
    const clients = await Promise.all(
      Array.from({ length: 16 }, () => WireClient.connect(server.address)),
    );
    const replies = await Promise.all(
      clients.flatMap((client, c) =>
        Array.from({ length: 20 }, (_, i) => client.call('echo', `c${c}-${i}`)),
      ),
    );
    replies.forEach((reply, index) => {
      expect(reply.payload.toString()).toBe(`c${Math.floor(index / 20)}-${index % 20}`);
    });
    await eventually(
      async () => (await server.stats()).calls.succeeded === 16 * 20,
      'every reactor counted its calls',
    );
  });

  it('refuses a port another server with reactors listens on (EADDRINUSE), as with one reactor', async () => {
    // The reactors share their port with SO_REUSEPORT; a second such server would join it.
    const first = await startModuleServer(kServiceModule, 2);
    const second = built.createServer(kServiceModule, { reactors: 2 });
    afterTest(() => second.close({ timeout: 500 }).catch(() => undefined));
    const error = await rejection(second.listen(first.address));
    expect((error as { code?: string }).code).toBe('EADDRINUSE');
  });

  it('names a module that throws a non-Error while loading, and what it threw', async () => {
    const module = join(__dirname, 'fixtures', 'throw-undefined-module.js');
    const server = built.createServer(module, { reactors: 2 });
    afterTest(() => server.close({ timeout: 500 }).catch(() => undefined));
    const error = await rejection(server.listen('127.0.0.1:0'));
    expect(error.code).toBe('ERR_NETPOLL_HANDLER_LOAD');
    expect(error.message).toBe(
      `service module ${module} could not be loaded in a reactor thread: it threw undefined`,
    );
  });

  it('refuses a module without a service export at listen() (ERR_NETPOLL_HANDLER_LOAD)', async () => {
    const server = built.createServer(join(__dirname, 'fixtures', 'no-service-module.js'), {
      reactors: 2,
    });
    afterTest(() => server.close({ timeout: 500 }).catch(() => undefined));
    const error = await rejection(server.listen('127.0.0.1:0'));
    expect(error.code).toBe('ERR_NETPOLL_HANDLER_LOAD');
    expect(isNetpollError(error)).toBe(true);
    // It names the user's module and why, not the package's own reactor handler.
    const module = join(__dirname, 'fixtures', 'no-service-module.js');
    expect(
      error.message.startsWith(
        `service module ${module} could not be loaded in a reactor thread: `,
      ),
    ).toBe(true);
    expect(error.message).not.toContain('reactor-handler');
    // The listener listen() made is closed again: the port takes no connection.
    const [host, port] = [server.address.split(':')[0]!, Number(server.address.split(':')[1])];
    const outcome = await new Promise<string | undefined>((resolve) => {
      const socket = destroyAfterTest(connect({ host, port }));
      socket.once('connect', () => resolve('connected'));
      socket.once('error', (failure: Error & { code?: string }) => resolve(failure.code));
    });
    expect(outcome).toBe('ECONNREFUSED');
  });

  it('refuses a serializer object with a service module', () => {
    let code: string | undefined;
    try {
      built.createServer(kServiceModule, {
        reactors: 2,
        serializer: { encode: (value) => value as Uint8Array, decode: (bytes) => bytes },
      });
    } catch (error) {
      code = (error as { code?: string }).code;
    }
    expect(code).toBe('ERR_NETPOLL_INVALID_ARG');
  });
});
