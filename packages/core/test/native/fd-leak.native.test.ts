/**
 * Connect/close cycles leave the descriptor count where it started: every accepted and dialed fd
 * is closed exactly once, whichever side closes first.
 *
 * The long run goes over a Unix socket, so it needs no ephemeral ports (a TCP client that closes
 * first keeps its port in TIME_WAIT for a minute, and CI machines may have few to spare); a short
 * TCP run covers the TCP paths with a few hundred ports at most.
 */
import { type Connection, dialConnection } from '../../src';
import { openFdCount } from '../helpers/fds';
import {
  closeAfterTest,
  describeNative,
  readExactly,
  startServer,
  type TestServer,
  until,
} from '../helpers/native';

/** Connections open at once; each batch of this many is dialed, used and closed in parallel. */
const kParallel = 50;

/**
 * How each cycle ends, by cycle number modulo 3: the client closes at once; the client closes
 * after one echo; the server closes first (on `q`) and the client closes after seeing EOF.
 */
type Ending = 'closedAtOnce' | 'closedAfterEcho' | 'serverClosedFirst';
const kEndings: readonly Ending[] = ['closedAtOnce', 'closedAfterEcho', 'serverClosedFirst'];

/** Echoes everything, except that a `q` makes the server close the connection. */
function echoOrQuit(connection: Connection): void {
  const { reader, writer } = connection;
  const data = reader.readBinary(reader.len());
  if (data.includes(0x71)) {
    connection.close();
    return;
  }
  writer.writeBinary(data);
  writer.flush();
}

/** One cycle: dial, end it the way `ending` says, and return what the client observed. */
async function cycle(server: TestServer, network: 'tcp' | 'unix', ending: Ending): Promise<string> {
  const client = closeAfterTest(await dialConnection(network, server.listener.address));
  let observed: string = ending;
  if (ending === 'closedAfterEcho') {
    client.writer.writeString('x');
    client.writer.flush();
    observed = (await readExactly(client, 1)).toString() === 'x' ? ending : 'wrong echo';
  } else if (ending === 'serverClosedFirst') {
    client.writer.writeString('q');
    client.writer.flush();
    const error = await client.reader.waitFor(1).then(
      () => null,
      (reason: { code?: string }) => reason,
    );
    observed = error?.code === 'ERR_NETPOLL_EOF' ? ending : `no EOF (${error?.code})`;
  }
  client.close();
  return observed;
}

/**
 * Runs `cycles` cycles against a fresh server on `network` and returns how they ended, the
 * server's open connection count and this process's descriptor count afterwards, and the
 * descriptor count before the cycles.
 */
async function runCycles(network: 'tcp' | 'unix', cycles: number) {
  const server = startServer(echoOrQuit, {}, network);
  // Warm-up creates the reactor's slabs and the listener; the baseline is taken after it.
  await cycle(server, network, 'closedAfterEcho');
  await until(() => server.loop.connectionCount === 0, 'warm-up closed');
  await new Promise((resolve) => setImmediate(resolve));
  const baseline = openFdCount();
  const endings = new Map<string, number>();
  for (let done = 0; done < cycles; done += kParallel) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(kParallel, cycles - done) }, (_, index) =>
        cycle(server, network, kEndings[(done + index) % kEndings.length]!),
      ),
    );
    for (const observed of batch) endings.set(observed, (endings.get(observed) ?? 0) + 1);
  }
  // A leaked server connection never reaches 0: stop waiting and let the counts below show it.
  await until(() => server.loop.connectionCount === 0, 'server side closed').catch(() => {});
  await new Promise((resolve) => setImmediate(resolve));
  return {
    endings: Object.fromEntries(endings),
    after: { connections: server.loop.connectionCount, fds: openFdCount() },
    baseline: { connections: 0, fds: baseline },
  };
}

describeNative('descriptor hygiene', () => {
  it('returns to the baseline fd count after 2000 connect/close cycles over a Unix socket', async () => {
    const { endings, after, baseline } = await runCycles('unix', 2000);
    expect(endings).toEqual({ closedAtOnce: 667, closedAfterEcho: 667, serverClosedFirst: 666 });
    expect(after).toEqual(baseline);
  });

  it('returns to the baseline fd count after 150 connect/close cycles over TCP', async () => {
    const { endings, after, baseline } = await runCycles('tcp', 150);
    expect(endings).toEqual({ closedAtOnce: 50, closedAfterEcho: 50, serverClosedFirst: 50 });
    expect(after).toEqual(baseline);
  });
});
