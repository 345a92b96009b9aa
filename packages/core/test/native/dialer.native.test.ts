/**
 * Conformance items 71–75 (netpoll's dialer, poller and error behaviours) and the EMFILE part
 * of item 70. Item 74 (poller count and load balancing) does not apply: there is one reactor per
 * JS thread (see the worker-thread test).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import {
  createListener,
  dialConnection,
  isNetpollError,
  NetpollSystemError,
  type Network,
} from '../../src';
import {
  afterTest,
  closeAfterTest,
  describeNative,
  echoHandler,
  readExactly,
  startServer,
} from '../helpers/native';

describeNative('dialer and errors (71–75)', () => {
  it('71: dialConnection returns an active connection; host names are resolved', async () => {
    const server = startServer(echoHandler);
    const client = closeAfterTest(
      await dialConnection('tcp', `localhost:${server.listener.port}`, {
        timeout: 5000,
      }),
    );
    expect(client.isActive()).toBe(true);
    expect(client.remoteAddress).toBe(server.listener.address);
    expect(client.localAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    client.writer.writeString('ping');
    client.writer.flush();
    expect((await readExactly(client, 4)).toString()).toBe('ping');
    client.close();
    await server.stop();
  });

  it('71: every resolved address is tried in turn until one connects', async () => {
    const listener = closeAfterTest(createListener('tcp', '127.0.0.2:0'));
    // The first address refuses (nothing listens on 127.0.0.1 at that port), the second accepts.
    jest.doMock('node:dns', () => ({
      ...jest.requireActual('node:dns'),
      lookup: (
        _host: string,
        _options: unknown,
        callback: (error: null, addresses: Array<{ address: string; family: number }>) => void,
      ) =>
        callback(null, [
          { address: '127.0.0.1', family: 4 },
          { address: '127.0.0.2', family: 4 },
        ]),
    }));
    let dial!: typeof dialConnection;
    jest.isolateModules(() => {
      dial = (require('../../src/dialer') as typeof import('../../src/dialer')).dialConnection;
    });
    jest.dontMock('node:dns');
    const client = closeAfterTest(await dial('tcp', `two-addresses.test:${listener.port}`));
    expect(client.remoteAddress).toBe(listener.address);
    client.close();
    listener.close();
  });

  it('71: a dial that cannot complete in time fails with ERR_NETPOLL_DIAL_TIMEOUT', async () => {
    // A listener that is never served and has a backlog of 1: once its accept queue is full the
    // kernel drops further SYNs, so those connects stay pending.
    const listener = closeAfterTest(createListener('tcp', '127.0.0.1:0', { backlog: 1 }));
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => dialConnection('tcp', listener.address, { timeout: 100 })),
    );
    afterTest(() => {
      for (const result of results) if (result.status === 'fulfilled') result.value.close();
    });
    const timeouts = results.filter(
      (result) => result.status === 'rejected' && result.reason.code === 'ERR_NETPOLL_DIAL_TIMEOUT',
    );
    expect(timeouts.length).toBeGreaterThan(0);
    const reason = (timeouts[0] as PromiseRejectedResult).reason;
    expect(reason.timeout).toBe(true);
    expect(reason.message).toContain('i/o timeout');
  });

  it('72: a refused connect is a system error with code, negative errno and syscall', async () => {
    const listener = closeAfterTest(createListener('tcp', '127.0.0.1:0'));
    const address = listener.address;
    listener.close();
    const error = await dialConnection('tcp', address).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetpollSystemError);
    expect(error).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect' });
    expect((error as NetpollSystemError).errno).toBeLessThan(0);
    expect(isNetpollError(error)).toBe(true);
  });

  it("72: unknown networks ('udp') are argument errors for the dialer and the listener", () => {
    expect(() => dialConnection('udp' as Network, '127.0.0.1:1')).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_INVALID_ARG' }),
    );
    expect(() => closeAfterTest(createListener('udp' as Network, '127.0.0.1:1'))).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_INVALID_ARG' }),
    );
  });

  it('reusePort lets two listeners share a port; without it the second bind fails', () => {
    const first = closeAfterTest(createListener('tcp', '127.0.0.1:0', { reusePort: true }));
    const second = closeAfterTest(
      createListener('tcp', `127.0.0.1:${first.port}`, { reusePort: true }),
    );
    expect(second.port).toBe(first.port);
    expect(() => closeAfterTest(createListener('tcp', `127.0.0.1:${first.port}`))).toThrow(
      expect.objectContaining({ code: 'EADDRINUSE', syscall: 'listen' }),
    );
    second.close();
    first.close();
  });

  it('73: Unix sockets round-trip and ignore the dial timeout', async () => {
    const server = startServer(echoHandler, {}, 'unix');
    const client = closeAfterTest(
      await dialConnection('unix', server.listener.address, { timeout: 1 }),
    );
    client.writer.writeString('unix!');
    client.writer.flush();
    expect((await readExactly(client, 5)).toString()).toBe('unix!');
    expect(client.remoteAddress).toBe(server.listener.address);
    client.close();
    await server.stop();
  });

  it('75: error texts follow netpoll', async () => {
    const listener = closeAfterTest(createListener('tcp', '127.0.0.1:0'));
    const error = await dialConnection('tcp', listener.address.replace(/:\d+$/, ':1')).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).toMatch(/^connect ECONNREFUSED/);
    listener.close();
  });

  it('70: out of fds, accept backs off without spinning and resumes when fds are free', async () => {
    const script = join(__dirname, '..', 'helpers', 'emfile-child.js');
    const output = await new Promise<string>((resolve, reject) => {
      const child = execFile(
        '/bin/sh',
        ['-c', `ulimit -n 64 && exec "${process.execPath}" "${script}"`],
        { timeout: 60000 },
        (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
      );
      afterTest(() => child.kill('SIGKILL'));
    });
    const result = JSON.parse(output.trim().split('\n').pop()!) as Record<string, number>;
    expect(result.backoffs).toBeGreaterThanOrEqual(1);
    // While paused, the reactor made no busy loop: a handful of batches at most per back-off.
    expect(result.batchesWhilePaused).toBeLessThan(50);
    expect(result.acceptedAfterResume).toBe(1);
  });
});
