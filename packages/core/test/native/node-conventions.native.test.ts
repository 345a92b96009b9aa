/**
 * What a Node user expects of a networking library: AbortSignal on everything that waits
 * (rejecting with an `AbortError`), `await using`, `diagnostics_channel` and `util.inspect`.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { getEventListeners } from 'node:events';
import { inspect } from 'node:util';
import { closeAfterTest } from '@netpoll/jest-config/cleanup';
import { collectWarnings } from '@netpoll/jest-config/process-events';
import { type Connection, createListener, dialConnection, EventLoop } from '../../src';
import { openFdCount } from '../helpers/fds';
import { deferred, describeNative, startServer, until } from '../helpers/native';

function expectAbortError(error: unknown, reason: unknown): void {
  expect(error).toBeInstanceOf(Error);
  expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: reason });
}

describeNative('Node conventions', () => {
  it('dialConnection rejects with an AbortError when its signal aborts, and keeps no socket', async () => {
    const server = startServer(() => {});
    const before = openFdCount();
    const reason = new Error('gave up');
    const already = AbortSignal.abort(reason);
    await dialConnection('tcp', server.listener.address, { signal: already }).then(
      () => {
        throw new Error('an aborted signal must not dial');
      },
      (error) => expectAbortError(error, reason),
    );
    const controller = new AbortController();
    const dialing = dialConnection('tcp', server.listener.address, { signal: controller.signal });
    controller.abort(reason);
    await dialing.then(
      () => {
        throw new Error('the dial should have been aborted');
      },
      (error) => expectAbortError(error, reason),
    );
    await until(() => openFdCount() <= before, 'the aborted socket closed');
    // A signal that aborts after the dial completed changes nothing.
    const late = new AbortController();
    const connection = closeAfterTest(
      await dialConnection('tcp', server.listener.address, { signal: late.signal }),
    );
    late.abort();
    expect(connection.isActive()).toBe(true);
    // Arguments are checked synchronously, as every other dial option.
    expect(() => dialConnection('tcp', server.listener.address, { signal: 'no' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_INVALID_ARG' }),
    );
  });

  it('reader.waitFor(n, { signal }) rejects with an AbortError; buffered bytes stay and a new wait works', async () => {
    const accepted = deferred<Connection>();
    const server = startServer(null, { onConnect: (connection) => accepted.resolve(connection) });
    const client = closeAfterTest(await dialConnection('tcp', server.listener.address));
    const serverSide = await accepted.promise;
    serverSide.writer.writeString('abc');
    serverSide.writer.flush();
    await client.reader.waitFor(3);
    const controller = new AbortController();
    const waiting = client.reader.waitFor(10, { signal: controller.signal });
    const reason = new Error('caller went away');
    controller.abort(reason);
    await waiting.then(
      () => {
        throw new Error('the wait should have been aborted');
      },
      (error) => expectAbortError(error, reason),
    );
    expect(client.reader.len()).toBe(3);
    serverSide.writer.writeString('defghij');
    serverSide.writer.flush();
    await client.reader.waitFor(10, { signal: new AbortController().signal });
    expect(client.reader.readString(10)).toBe('abcdefghij');
    await expect(client.reader.waitFor(1, { signl: 1 } as never)).rejects.toMatchObject({
      code: 'ERR_NETPOLL_INVALID_ARG',
      message: 'options.signl is not a known option (did you mean signal?)',
    });
  });

  it('one signal shared by 20 waits gets one listener, aborts them all, and prints no warning', async () => {
    const warnings = collectWarnings();
    const server = startServer(() => {});
    const clients = await Promise.all(
      Array.from({ length: 20 }, async () =>
        closeAfterTest(await dialConnection('tcp', server.listener.address)),
      ),
    );
    const controller = new AbortController();
    const waits = clients.map((client) =>
      client.reader.waitFor(10, { signal: controller.signal }).then(
        () => null,
        (error: unknown) => error,
      ),
    );
    // One each would pass Node's limit of 10 and print MaxListenersExceededWarning.
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort('shutdown');
    for (const error of await Promise.all(waits)) expectAbortError(error, 'shutdown');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // A wait that ends otherwise (its connection closed) takes the listener off as well.
    const other = new AbortController();
    const pending = clients[0]!.reader.waitFor(1, { signal: other.signal }).catch(() => 'ended');
    expect(getEventListeners(other.signal, 'abort')).toHaveLength(1);
    clients[0]!.close();
    expect(await pending).toBe('ended');
    expect(getEventListeners(other.signal, 'abort')).toHaveLength(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.map((warning) => warning.name)).toEqual([]);
  });

  it('Symbol.asyncDispose closes connections and listeners and shuts loops down', async () => {
    const loop = new EventLoop((connection) => {
      connection.writer.writeFrom(connection.reader, connection.reader.len());
      connection.writer.flush();
    });
    const listener = createListener('tcp', '127.0.0.1:0');
    const served = loop.serve(listener);
    const client = await dialConnection('tcp', listener.address);
    client.writer.writeString('x');
    client.writer.flush();
    await client.reader.waitFor(1);
    await client[Symbol.asyncDispose]();
    expect(client.isActive()).toBe(false);
    await until(() => loop.connectionCount === 0, 'the server side closed');
    // Typed as TypeScript's AsyncDisposable, as `await using` requires (a promise of nothing).
    const disposables: AsyncDisposable[] = [loop, client];
    await expect(disposables[0]![Symbol.asyncDispose]()).resolves.toBeUndefined();
    await served;
    expect(listener.closed).toBe(true);
    const other = createListener('tcp', '127.0.0.1:0');
    other[Symbol.dispose]();
    expect(other.closed).toBe(true);
  });

  it('publishes connection open/close and backpressure on diagnostics channels', async () => {
    const seen: string[] = [];
    const onOpen = (message: unknown) => {
      const { side } = message as { side: string };
      seen.push(`open:${side}`);
    };
    const onClose = (message: unknown) => {
      const { error } = message as { error: Error | null };
      seen.push(`close:${error === null ? 'clean' : error.message}`);
    };
    const onBackpressure = (message: unknown) => {
      const { reason, paused } = message as { reason: string; paused: boolean };
      seen.push(`backpressure:${reason}:${paused}`);
    };
    subscribe('netpoll:connection:open', onOpen);
    subscribe('netpoll:connection:close', onClose);
    subscribe('netpoll:connection:backpressure', onBackpressure);
    try {
      const accepted = deferred<Connection>();
      const server = startServer(() => {}, {
        readHighWaterMark: 4,
        onConnect: (connection) => accepted.resolve(connection),
      });
      const client = await dialConnection('tcp', server.listener.address);
      const serverSide = await accepted.promise;
      // The handler consumes nothing: 8 unconsumed bytes stop reading at readHighWaterMark 4.
      client.writer.writeString('12345678');
      client.writer.flush();
      await until(() => serverSide.readPaused, 'the server side stops reading');
      serverSide.reader.skip(serverSide.reader.len());
      serverSide.reader.release();
      expect(serverSide.readPaused).toBe(false);
      client.close();
      await until(() => server.loop.connectionCount === 0, 'closed');
      expect(seen).toEqual([
        'open:server',
        'open:client',
        'backpressure:input:true',
        'backpressure:input:false',
        'close:clean',
        'close:clean',
      ]);
    } finally {
      unsubscribe('netpoll:connection:open', onOpen);
      unsubscribe('netpoll:connection:close', onClose);
      unsubscribe('netpoll:connection:backpressure', onBackpressure);
    }
  });

  it('util.inspect shows state, not emitter internals', async () => {
    const server = startServer(() => {});
    const client = closeAfterTest(await dialConnection('tcp', server.listener.address));
    const text = inspect(client);
    expect(text).toMatch(/^Connection \{/);
    expect(text).toContain(`remoteAddress: '${server.listener.address}'`);
    expect(text).toContain('active: true');
    expect(text).toContain('bufferedBytes: 0');
    expect(text).toContain('pendingBytes: 0');
    expect(text).not.toContain('_events');
    expect(inspect(server.listener)).toBe(
      `Listener { network: 'tcp', address: '${server.listener.address}', closed: false }`,
    );
    expect(inspect(server.loop)).toContain(`listeners: [ '${server.listener.address}' ]`);
  });
});
