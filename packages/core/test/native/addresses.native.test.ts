/**
 * `localAddress` / `remoteAddress` stay correct when first read after the connection closed: the
 * connection looks them up before its fd is handed back (one native call per address not yet read).
 */
import { type Connection, dialConnection, getReactorStats } from '../../src';
// startServer shuts its loop down after each test and closeAfterTest closes the dialed
// connections, so a failing expectation cannot leave either open.
import {
  closeAfterTest,
  deferred,
  describeNative,
  echoHandler,
  startServer,
} from '../helpers/native';

interface Seen {
  local: string;
  remote: string;
  active: boolean;
}

function addressesOf(connection: Connection): Seen {
  return {
    local: connection.localAddress,
    remote: connection.remoteAddress,
    active: connection.isActive(),
  };
}

describeNative('connection addresses after close', () => {
  it('a dialed connection closed locally still reports both addresses', async () => {
    const server = startServer(echoHandler);
    const client = closeAfterTest(await dialConnection('tcp', server.listener.address));
    client.close();
    const calls = getReactorStats().jsToNativeCalls;
    const seen = addressesOf(client);
    expect(seen.active).toBe(false);
    expect(seen.remote).toBe(server.listener.address);
    expect(seen.local).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(seen.local).not.toBe(seen.remote);
    // Looked up at close time: reading them afterwards costs no native call.
    expect(getReactorStats().jsToNativeCalls).toBe(calls);
  });

  it('a server connection reports them in close callbacks after a peer close and a local close', async () => {
    const fromPeerClose = deferred<Seen>();
    const fromLocalClose = deferred<Seen>();
    let accepted = 0;
    const server = startServer(null, {
      onPrepare: (connection) => {
        const which = accepted++ === 0 ? fromPeerClose : fromLocalClose;
        connection.addCloseCallback((closed) => which.resolve(addressesOf(closed)));
        return null;
      },
      onConnect: (connection) => {
        // The second connection is closed by the server before anything read its addresses.
        if (accepted === 2) connection.close();
      },
    });
    const first = closeAfterTest(await dialConnection('tcp', server.listener.address));
    const firstLocal = first.localAddress;
    first.close(); // the peer of the server connection closes
    const peer = await fromPeerClose.promise;
    expect(peer).toEqual({ local: server.listener.address, remote: firstLocal, active: false });

    const second = closeAfterTest(await dialConnection('tcp', server.listener.address));
    const secondLocal = second.localAddress;
    const local = await fromLocalClose.promise;
    expect(local).toEqual({ local: server.listener.address, remote: secondLocal, active: false });
    second.close();
  });

  it('a Unix connection reports the socket path as its remote address after close', async () => {
    const server = startServer(echoHandler, undefined, 'unix');
    const client = closeAfterTest(await dialConnection('unix', server.listener.address));
    client.close();
    expect(client.remoteAddress).toBe(server.listener.address);
  });
});
