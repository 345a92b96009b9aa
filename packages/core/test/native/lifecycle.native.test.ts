/**
 * Conformance items 55–63 (netpoll's lifecycle and callback behaviours; 64–70 are in
 * lifecycle-shutdown.native.test.ts). netpoll's ctx is `connection.context` here (the value
 * returned by onPrepare/onConnect), passed as the handlers' second argument.
 */
import { type Connection, dialConnection } from '../../src';
import {
  closeAfterTest,
  deferred,
  describeNative,
  rawClient,
  socketClosed,
  startServer,
  until,
} from '../helpers/native';

describeNative('lifecycle and callbacks (55–63)', () => {
  it('55: onPrepare → onConnect → onRequest, with the context passed along', async () => {
    const events: string[] = [];
    const done = deferred();
    const server = startServer(
      (connection, context) => {
        events.push(`request:${String(context)}`);
        connection.reader.skip(connection.reader.len());
        done.resolve();
      },
      {
        onPrepare: () => {
          events.push('prepare');
          return 'p';
        },
        onConnect: (_connection, context) => {
          events.push(`connect:${String(context)}`);
          return 'c';
        },
      },
    );
    const client = await rawClient(server.listener.port);
    client.write('x');
    await done.promise;
    expect(events).toEqual(['prepare', 'connect:p', 'request:c']);
    client.destroy();
    await server.stop();
  });

  it('56: onRequest never starts before an async onConnect resolved, even with data waiting', async () => {
    const release = deferred();
    const events: string[] = [];
    const done = deferred();
    const server = startServer(
      (connection) => {
        events.push(`request:${connection.reader.len()}`);
        connection.reader.skip(connection.reader.len());
        done.resolve();
      },
      {
        onConnect: async (connection) => {
          events.push('connect-start');
          await until(() => connection.reader.len() === 3, 'data before onConnect ends');
          await release.promise;
          events.push('connect-end');
        },
      },
    );
    const client = await rawClient(server.listener.port);
    client.write('abc');
    await until(() => events.length === 1, 'onConnect started');
    release.resolve();
    await done.promise;
    expect(events).toEqual(['connect-start', 'connect-end', 'request:3']);
    client.destroy();
    await server.stop();
  });

  it('57: one handler at a time, re-run while input remains (5 bytes, 1 per call → 5 calls)', async () => {
    let running = 0;
    let overlap = false;
    const calls: string[] = [];
    const done = deferred();
    const server = startServer(async (connection) => {
      running++;
      if (running > 1) overlap = true;
      calls.push(String.fromCharCode(connection.reader.readByte()));
      await Promise.resolve();
      running--;
      if (calls.length === 5) done.resolve();
      return 'ignored';
    });
    const client = await rawClient(server.listener.port);
    client.write('hello');
    await done.promise;
    expect(calls.join('')).toBe('hello');
    expect(overlap).toBe(false);
    client.destroy();
    await server.stop();
  });

  it('58: data sent just before a peer close is handled; the handler sees isActive() false and its reply still reaches the half-closed peer', async () => {
    const seen = deferred<{ data: string; active: boolean; writeCode: string }>();
    const server = startServer(
      (connection) => {
        const data = connection.reader.readString(connection.reader.len());
        let writeCode = '';
        try {
          connection.writer.writeString('reply');
          connection.writer.flush();
        } catch (error) {
          writeCode = (error as { code: string }).code;
        }
        seen.resolve({ data, active: connection.isActive(), writeCode });
      },
      {
        onConnect: (connection) =>
          new Promise<void>((resolve) => connection.once('end', () => resolve())),
      },
    );
    const client = await rawClient(server.listener.port);
    let received = '';
    client.on('data', (chunk) => {
      received += chunk.toString('latin1');
    });
    const ended = new Promise<void>((resolve) => client.on('end', () => resolve()));
    client.end('last words');
    expect(await seen.promise).toEqual({ data: 'last words', active: false, writeCode: '' });
    await ended;
    expect(received).toBe('reply');
    await server.stop();
  });

  it('59: onDisconnect runs once on peer close (after onConnect, inactive), never on a local close', async () => {
    const disconnects: Array<{ active: boolean }> = [];
    const accepted: Connection[] = [];
    const server = startServer(null, {
      onConnect: (connection) => {
        accepted.push(connection);
      },
      onDisconnect: (connection) => disconnects.push({ active: connection.isActive() }),
    });
    const peerClosing = await rawClient(server.listener.port);
    const localClosing = await rawClient(server.listener.port);
    await until(() => accepted.length === 2, 'two accepted');
    peerClosing.destroy();
    await until(() => disconnects.length === 1, 'onDisconnect');
    const local = accepted.find((c) => c.isActive())!;
    const localClosed = socketClosed(localClosing);
    local.close();
    await localClosed;
    await until(() => server.loop.connectionCount === 0, 'all closed');
    expect(disconnects).toEqual([{ active: false }]);
    await server.stop();
  });

  it('59: a peer close after a local close() inside a running handler is not an onDisconnect', async () => {
    let disconnects = 0;
    const finished = deferred();
    const server = startServer(
      async (connection) => {
        connection.reader.skip(connection.reader.len());
        connection.close();
        await new Promise((resolve) => connection.once('end', resolve));
        finished.resolve();
      },
      { onDisconnect: () => disconnects++ },
    );
    const client = await rawClient(server.listener.port);
    client.write('x');
    await until(() => server.loop.connectionCount === 1, 'accepted');
    client.destroy();
    await finished.promise;
    await until(() => server.loop.connectionCount === 0, 'finalized');
    expect(disconnects).toBe(0);
    await server.stop();
  });

  it('60: onConnect that closes the connection: the client sees EOF, close callbacks run once', async () => {
    let callbacks = 0;
    let disconnects = 0;
    const server = startServer(null, {
      onConnect: (connection) => {
        connection.addCloseCallback(() => {
          callbacks++;
        });
        connection.close();
      },
      onDisconnect: () => disconnects++,
    });
    const client = closeAfterTest(await dialConnection('tcp', server.listener.address));
    await expect(client.reader.waitFor(1)).rejects.toMatchObject({ code: 'ERR_NETPOLL_EOF' });
    client.close();
    await until(() => server.loop.connectionCount === 0, 'server side closed');
    expect(callbacks).toBe(1);
    // Adaptation: a local close (here from onConnect) never runs onDisconnect (item 59).
    expect(disconnects).toBe(0);
    await server.stop();
  });

  it('61–63: close inside onRequest defers callbacks until it returns; LIFO; inactive; idempotent', async () => {
    const order: string[] = [];
    const done = deferred();
    const server = startServer((connection) => {
      connection.addCloseCallback((c) => {
        order.push(`first:${c.isActive()}`);
        done.resolve();
      });
      connection.addCloseCallback((c) => {
        order.push(`second:${c.isActive()}`);
      });
      connection.addCloseCallback(null);
      connection.close();
      connection.close();
      order.push('handler-returns');
      connection.reader.skip(1);
    });
    const client = await rawClient(server.listener.port);
    client.write('z');
    await done.promise;
    expect(order).toEqual(['handler-returns', 'second:false', 'first:false']);
    client.destroy();
    await server.stop();
  });
});
