/**
 * The end of a connection's seq space (2^32 - 1 calls): the connection takes no new call, and
 * closes once the calls written on it are answered, instead of staying open unused for good.
 * A client numbers calls from 1, so the test starts a connection near the end (the internal
 * `firstSeq`); at 100 000 calls per second a connection gets there in about 12 hours.
 */
import { dialConnection } from '@netpoll/core';
import { ClientConnection } from '../src/client/client-connection';
import { resolveClientOptions } from '../src/options';
import { Kind } from '../src/protocol/frame';
import { afterTest, bytes, startRawServer, within } from './helpers/client-harness';
import { makeCall, recordingHost } from './helpers/connection-harness';

describe('the end of the seq space', () => {
  it('takes no call after seq 2^32 - 2, answers the ones written, then closes', async () => {
    const raw = await startRawServer((connection, message) => {
      if (message.kind === Kind.REQUEST) {
        connection.send({ kind: Kind.RESPONSE, seq: message.seq, payload: message.payload });
      }
    });
    const socket = await dialConnection('tcp', raw.address);
    afterTest(() => socket.close());
    const { host, closed } = recordingHost();
    const connection = new ClientConnection(socket, host, resolveClientOptions({}), 0xfffffffd);
    const first = makeCall('m', bytes('first'));
    connection.send(first.call);
    expect(connection.usable).toBe(true);
    const last = makeCall('m', bytes('last'));
    connection.send(last.call);
    // 0xffffffff is never used: the connection is retired once 0xfffffffe is written.
    expect(connection.usable).toBe(false);
    expect(((await first.reply) as Buffer).toString('utf8')).toBe('first');
    expect(((await last.reply) as Buffer).toString('utf8')).toBe('last');
    const server = await raw.connection(0);
    expect(server.requests().map((request) => request.seq)).toEqual([0xfffffffd, 0xfffffffe]);
    await within(closed, 5000, 'the retired connection closed');
    await within(server.closed, 5000, 'the server saw the connection end');
    expect(connection.pending).toBe(0);
  });

  it('closes after writing a one-way call that used the last seq', async () => {
    const raw = await startRawServer();
    const socket = await dialConnection('tcp', raw.address);
    afterTest(() => socket.close());
    const { host, closed } = recordingHost();
    const connection = new ClientConnection(socket, host, resolveClientOptions({}), 0xfffffffe);
    const oneWay = makeCall('note', bytes('bye'), true);
    connection.send(oneWay.call);
    expect(connection.usable).toBe(false);
    await oneWay.reply;
    const server = await raw.connection(0);
    await within(server.closed, 5000, 'the server saw the connection end');
    await within(closed, 5000, 'the retired connection closed');
    expect(server.requests().map((request) => [request.kind, request.seq])).toEqual([
      [Kind.ONE_WAY, 0xfffffffe],
    ]);
    expect(server.requests()[0]!.payload.toString('utf8')).toBe('bye');
  });
});
