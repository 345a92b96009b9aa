/**
 * Finished dials and closed connections leave the reactor's timer wheel at once, instead of
 * staying there (with everything they reference) until their deadline.
 */
import dns from 'node:dns';
import { type Connection, createListener, dialConnection, NetpollSystemError } from '../../src';
import { getReactor } from '../../src/get-reactor';
import {
  describeNative,
  echoHandler,
  startServer as startTestServer,
  type TestServer,
} from '../helpers/native';

const kLongTimeout = 60_000;

function wheelSize(): number {
  return getReactor().timers.size;
}

/** An address on 127.0.0.1 where nothing listens (a listener's port, closed again). */
function closedPort(): string {
  const listener = createListener('tcp', '127.0.0.1:0');
  const address = listener.address;
  listener.close();
  return address;
}

// Closed after each test, so a failing expectation cannot leave a server or a client open.
const servers: TestServer[] = [];
const clients: Connection[] = [];
const startServer: typeof startTestServer = (...args) => {
  const server = startTestServer(...args);
  servers.push(server);
  return server;
};

describeNative('dials and connections leave the timer wheel when they finish', () => {
  afterEach(async () => {
    jest.restoreAllMocks();
    for (const client of clients.splice(0)) client.close();
    for (const server of servers.splice(0)) await server.stop();
  });

  it('refused dials with a 60 s timeout leave it as soon as they are refused', async () => {
    const address = closedPort();
    const before = wheelSize();
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () => dialConnection('tcp', address, { timeout: kLongTimeout })),
    );
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const reason = (result as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(NetpollSystemError);
      expect(reason).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect' });
    }
    expect(wheelSize()).toBe(before);
  });

  it('a successful dial with a timeout leaves it once connected', async () => {
    const server = startServer(echoHandler);
    const before = wheelSize();
    const client = await dialConnection('tcp', server.listener.address, { timeout: kLongTimeout });
    clients.push(client);
    expect(client.isActive()).toBe(true);
    expect(wheelSize()).toBe(before);
  });

  it('a dial whose DNS lookup fails leaves it at once', async () => {
    const failure = Object.assign(new Error('getaddrinfo ENOTFOUND no-such-host.test'), {
      code: 'ENOTFOUND',
    });
    jest.spyOn(dns, 'lookup').mockImplementation(((
      _host: string,
      _options: unknown,
      callback: (error: Error) => void,
    ) => {
      setImmediate(() => callback(failure));
    }) as unknown as typeof dns.lookup);
    const before = wheelSize();
    const pending = dialConnection('tcp', 'no-such-host.test:80', { timeout: kLongTimeout });
    expect(wheelSize()).toBe(before + 1);
    await expect(pending).rejects.toBe(failure);
    expect(wheelSize()).toBe(before);
  });

  it('a connection closed while a waitFor with a read timeout is pending leaves it at once', async () => {
    const server = startServer(echoHandler);
    const client = await dialConnection('tcp', server.listener.address, {
      readTimeout: kLongTimeout,
    });
    clients.push(client);
    const before = wheelSize();
    const waiting = client.reader.waitFor(1);
    expect(wheelSize()).toBe(before + 1);
    client.close();
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_NETPOLL_CONN_CLOSED' });
    expect(wheelSize()).toBe(before);
  });
});
