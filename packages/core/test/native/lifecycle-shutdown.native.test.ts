/**
 * Conformance items 64–70 (netpoll's lifecycle behaviours at the end of a connection): clean-up
 * on peer close, handler failures that close only their connection, shutdown with busy and idle
 * connections, and serve() on a closed listener. netpoll's ctx is `connection.context` here.
 */
import { type Connection, createListener, dialConnection, EventLoop } from '../../src';
import {
  afterTest,
  closeAfterTest,
  deferred,
  describeNative,
  rawClient,
  socketClosed,
  startServer,
  until,
} from '../helpers/native';
import { runWorker } from '../helpers/run-worker';

describeNative('lifecycle: peer close, failures and shutdown (64–70)', () => {
  it('64: server and dialed connections clean up on peer close; with allowHalfOpen a dialed one waits for close()', async () => {
    let serverCallbacks = 0;
    const accepted: Connection[] = [];
    const server = startServer(null, {
      onConnect: (connection) => {
        connection.addCloseCallback(() => {
          serverCallbacks++;
        });
        accepted.push(connection);
      },
    });
    // Default: the dialed connection closes itself once the peer closed (nothing buffered).
    const client = closeAfterTest(await dialConnection('tcp', server.listener.address));
    const events: string[] = [];
    client.addCloseCallback(() => events.push('callback'));
    client.on('end', () => events.push('end'));
    const clientClosed = new Promise<unknown>((resolve) => client.on('close', resolve));
    await until(() => accepted.length === 1, 'accepted');
    accepted[0]!.close();
    expect(await clientClosed).toBeNull();
    expect(events).toEqual(['end', 'callback']);
    // allowHalfOpen: 'end' only; close callbacks wait for close().
    const halfOpen = closeAfterTest(
      await dialConnection('tcp', server.listener.address, { allowHalfOpen: true }),
    );
    let halfOpenCallbacks = 0;
    halfOpen.addCloseCallback(() => {
      halfOpenCallbacks++;
    });
    await until(() => accepted.length === 2, 'accepted');
    accepted[1]!.close();
    await until(() => !halfOpen.isActive(), 'client sees the hang-up');
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(halfOpenCallbacks).toBe(0);
    halfOpen.close();
    expect(halfOpenCallbacks).toBe(1);
    expect(serverCallbacks).toBe(2);
    await server.stop();
  });

  it('65: setOnRequest with input already buffered starts at once; null handlers are ignored', async () => {
    const accepted = deferred<Connection>();
    const server = startServer(null, { onConnect: (c) => accepted.resolve(c) });
    const client = closeAfterTest(await dialConnection('tcp', server.listener.address));
    const serverSide = await accepted.promise;
    serverSide.writer.writeString('queued');
    serverSide.writer.flush();
    await client.reader.waitFor(6);
    client.setOnRequest(null);
    expect(client.hasHandler).toBe(false);
    const got = deferred<string>();
    client.setOnRequest((connection) => {
      got.resolve(connection.reader.readString(connection.reader.len()));
    });
    expect(await got.promise).toBe('queued');
    client.close();
    await server.stop();
  });

  it('66: a throwing or rejecting onRequest closes only its connection and reaches onError', async () => {
    const errors: string[] = [];
    const server = startServer(
      (connection) => {
        const text = connection.reader.readString(connection.reader.len());
        if (text === 'throw') throw new Error('boom');
        if (text === 'reject') return Promise.reject('not an error');
        connection.writer.writeString(text);
        connection.writer.flush();
        return undefined;
      },
      { onError: (error) => errors.push(`${error.message}|${(error as { code?: string }).code}`) },
    );
    const thrower = await rawClient(server.listener.port);
    const rejecter = await rawClient(server.listener.port);
    const healthy = closeAfterTest(await dialConnection('tcp', server.listener.address));
    const throwerClosed = socketClosed(thrower);
    const rejecterClosed = socketClosed(rejecter);
    thrower.write('throw');
    rejecter.write('reject');
    await throwerClosed;
    await rejecterClosed;
    healthy.writer.writeString('still fine');
    healthy.writer.flush();
    await healthy.reader.waitFor(10);
    expect(healthy.reader.readString(10)).toBe('still fine');
    expect(errors.sort()).toEqual([
      'boom|undefined',
      'onRequest failed|ERR_NETPOLL_HANDLER_FAILED',
    ]);
    healthy.close();
    await server.stop();
  });

  it('66: user code that closes connection.reader closes that connection with ERR_NETPOLL_CLOSED and leaks no slab; a peer that never reads cannot starve another client', async () => {
    const report = await runWorker<{
      error?: string;
      serverErrors: string[];
      appended: string;
      clientErrors: (string | null)[];
      healthyIntact: boolean;
      echoedWhileHogged: number;
      hogPaused: boolean;
    }>('worker-reader-closed.js', null, true);
    expect(report.error).toBeUndefined();
    // reader.close() and writer.append(reader) inside onRequest: reported once each, at once.
    expect(report.serverErrors).toEqual(['ERR_NETPOLL_CLOSED', 'ERR_NETPOLL_CLOSED']);
    expect(report.appended).toBe('!a');
    // A dialed connection whose reader was closed fails when its next bytes arrive.
    expect(report.clientErrors).toEqual(new Array(16).fill('ERR_NETPOLL_CLOSED'));
    // Their slab regions were let go: 256 KiB still echo through 64 KiB of inbound memory.
    expect(report.healthyIntact).toBe(true);
    // A peer that never reads holds only its share: its connection stops reading, and another
    // client's echo goes through 64 KiB of inbound memory while it is connected and after.
    expect(report.hogPaused).toBe(true);
    expect(report.echoedWhileHogged).toBe(2000);
  }, 60000);

  it('66: close() and then a throw or rejection in onRequest still closes the connection', async () => {
    const errors: string[] = [];
    let closeCallbacks = 0;
    const server = startServer(
      (connection) => {
        connection.addCloseCallback(() => closeCallbacks++);
        const mode = connection.reader.readString(1);
        connection.close();
        if (mode === 's') connection.writer.writeString('too late'); // throws CONN_CLOSED
        return Promise.reject(new Error('after close'));
      },
      { onError: (error) => errors.push((error as { code?: string }).code ?? error.message) },
    );
    const sync = await rawClient(server.listener.port);
    const async = await rawClient(server.listener.port);
    const syncClosed = socketClosed(sync);
    const asyncClosed = socketClosed(async);
    sync.write('s');
    async.write('a');
    await syncClosed;
    await asyncClosed;
    await until(() => server.loop.connectionCount === 0, 'both server connections finalized');
    expect(closeCallbacks).toBe(2);
    expect(errors.sort()).toEqual(['ERR_NETPOLL_CONN_CLOSED', 'after close']);
    await server.stop();
  });

  it('60: onConnect that closes and then throws: reported, and the connection is closed', async () => {
    const errors: string[] = [];
    const server = startServer(() => undefined, {
      onConnect: (connection) => {
        connection.close();
        throw new Error('unauthorized');
      },
      onError: (error) => errors.push(error.message),
    });
    const client = await rawClient(server.listener.port);
    await socketClosed(client);
    await until(() => server.loop.connectionCount === 0, 'the server connection finalized');
    expect(errors).toEqual(['unauthorized']);
    await server.stop();
  });

  it('throwing end and close listeners are reported; the connection still closes', async () => {
    const errors: string[] = [];
    let closes = 0;
    const server = startServer(null, {
      onConnect: (connection) => {
        connection.on('end', () => {
          throw new Error('end listener');
        });
        connection.on('close', () => {
          closes++;
          throw new Error('close listener');
        });
        return undefined;
      },
      onError: (error) => errors.push(error.message),
    });
    const first = await rawClient(server.listener.port);
    first.end();
    await until(() => closes === 1, 'the first connection closed after its peer did');
    const second = await rawClient(server.listener.port);
    await until(() => server.loop.connectionCount === 1, 'the second connection registered');
    const secondClosed = socketClosed(second);
    await server.stop(); // close() inside shutdown must not throw
    await secondClosed;
    expect(closes).toBe(2);
    expect(server.loop.connectionCount).toBe(0);
    expect(errors).toEqual(['end listener', 'close listener', 'close listener']);
  });

  it('67: onPrepare that closes: no onConnect and no onRequest ever run', async () => {
    const events: string[] = [];
    const server = startServer(() => events.push('request'), {
      onPrepare: (connection) => connection.close(),
      onConnect: () => events.push('connect'),
    });
    const client = await rawClient(server.listener.port);
    const done = socketClosed(client);
    client.write('data');
    await done;
    expect(events).toEqual([]);
    await server.stop();
  });

  it('68: 100 parallel short connections of 1 KiB each deliver 102400 bytes', async () => {
    let received = 0;
    const server = startServer((connection) => {
      received += connection.reader.len();
      connection.reader.skip(connection.reader.len());
    });
    const clients = await Promise.all(
      Array.from({ length: 100 }, () => rawClient(server.listener.port)),
    );
    await Promise.all(
      clients.map((client) => {
        const done = socketClosed(client);
        client.end(Buffer.alloc(1024, 3));
        return done;
      }),
    );
    await until(() => received === 102400 && server.loop.connectionCount === 0, 'all bytes');
    expect(received).toBe(102400);
    await server.stop();
  });

  it('69: shutdown closes idle connections, waits for busy ones up to the timeout, then closes them', async () => {
    const busyStarted = deferred();
    const server = startServer(async (connection) => {
      connection.reader.skip(connection.reader.len());
      busyStarted.resolve();
      await new Promise(() => {}); // never finishes
    });
    const idle = await rawClient(server.listener.port);
    const busy = await rawClient(server.listener.port);
    busy.write('work');
    await busyStarted.promise;
    const idleClosed = socketClosed(idle);
    const busyClosed = socketClosed(busy);
    const ends: Record<string, string> = {};
    for (const [name, socket] of [
      ['idle', idle],
      ['busy', busy],
    ] as const) {
      socket.on('end', () => (ends[name] ??= 'EOF'));
      socket.on('error', (error: NodeJS.ErrnoException) => (ends[name] ??= error.code ?? 'error'));
    }
    // Long enough for the idle one's close to take its turns on a slow machine first.
    const first = server.loop.shutdown({ timeout: 2000 });
    expect(server.loop.shutdown()).toBe(first);
    await idleClosed;
    expect(server.loop.connectionCount).toBe(1);
    // The timeout had to close the busy one.
    await expect(first).resolves.toEqual({ complete: false });
    await busyClosed;
    // The idle one closed gracefully; the busy one's handler was cut, and its peer is told so.
    expect(ends).toEqual({ idle: 'EOF', busy: 'ECONNRESET' });
    await expect(server.served).resolves.toBeUndefined();
    expect(server.loop.connectionCount).toBe(0);
    const late = closeAfterTest(createListener('tcp', '127.0.0.1:0'));
    await expect(server.loop.serve(late)).rejects.toMatchObject({ code: 'ERR_NETPOLL_CLOSED' });
    late.close();
  });

  it('69: shutdown lets flushed output reach a reading peer in full before closing', async () => {
    const size = 8 * 1024 * 1024;
    const replied = deferred();
    const server = startServer((connection) => {
      connection.reader.skip(connection.reader.len());
      connection.writer.writeBinary(Buffer.alloc(size, 0x61));
      connection.writer.flush();
      replied.resolve();
    });
    const client = closeAfterTest(await dialConnection('tcp', server.listener.address));
    client.writer.writeString('go');
    client.writer.flush();
    await replied.promise;
    // 10 s: far more than 8 MiB over loopback needs, even on a stalled machine.
    const stopped = server.loop.shutdown({ timeout: 10_000 }).then(() => server.served);
    let received = 0;
    let ended = '';
    for (;;) {
      try {
        await client.reader.waitFor(1);
      } catch (error) {
        ended = (error as { code?: string }).code ?? '';
        break;
      }
      received += client.reader.len();
      client.reader.skip(client.reader.len());
      client.reader.release();
    }
    await stopped;
    expect(ended).toBe('ERR_NETPOLL_EOF');
    expect(received).toBe(size);
    client.close();
  });

  it('rejects serving the same listener twice', async () => {
    const loop = new EventLoop(null);
    afterTest(() => loop.shutdown({ timeout: 1000 }));
    const listener = closeAfterTest(createListener('tcp', '127.0.0.1:0'));
    const served = loop.serve(listener);
    await expect(loop.serve(listener)).rejects.toMatchObject({ code: 'ERR_NETPOLL_INVALID_ARG' });
    await loop.shutdown();
    await served;
  });

  it('70: serve() rejects with ERR_NETPOLL_CLOSED when the listener is closed from outside', async () => {
    const loop = new EventLoop(null);
    afterTest(() => loop.shutdown({ timeout: 1000 }));
    const listener = closeAfterTest(createListener('tcp', '127.0.0.1:0'));
    const served = loop.serve(listener);
    listener.close();
    listener.close();
    await expect(served).rejects.toMatchObject({ code: 'ERR_NETPOLL_CLOSED' });
    await loop.shutdown();
  });

  it('listener.close(lingerTimeout) checks lingerTimeout as the option, before closing', () => {
    const listener = closeAfterTest(createListener('tcp', '127.0.0.1:0'));
    // Unchecked, a non-number reached native as 0 and 2^32 wrapped to 0 there: both closed at once.
    expect(() => listener.close('5000' as unknown as number)).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_INVALID_ARG' }),
    );
    expect(() => listener.close(2 ** 32)).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_OUT_OF_RANGE' }),
    );
    expect(() => listener.close(-1)).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_OUT_OF_RANGE' }),
    );
    expect(listener.closed).toBe(false);
    listener.close(0);
    expect(listener.closed).toBe(true);
  });
});
