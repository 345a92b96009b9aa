/**
 * A server shutting down gracefully under client load, with a second server beside it: no call is
 * lost — each one succeeds, on the closing server or, when that server never read it (GOAWAY),
 * transparently on the other — and calls after the GOAWAY go to the other endpoint. Checked with
 * a server child on SIGTERM, an in-process `server.close()`, and byte by byte with a raw server.
 */
import { Kind } from '../src';
import { startServerChild } from './helpers/client-child';
import {
  answerPings,
  bytes,
  delay,
  type Outcome,
  outcome,
  type RawConnection,
  startClient,
  startRawServer,
  startServer,
  until,
  within,
} from './helpers/client-harness';

jest.setTimeout(60_000);

/** `workers` loops of calls until `stop()`; each outcome is kept with when its call started. */
function load(workers: number, call: () => Promise<unknown>) {
  let running = true;
  const results: Array<Outcome & { started: number }> = [];
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      const started = performance.now();
      results.push({ ...(await outcome(call())), started });
    }
  });
  return {
    results,
    async stop() {
      running = false;
      await Promise.all(loops);
      return results;
    },
  };
}

describe('graceful server shutdown under load', () => {
  it('a server child closing on SIGTERM loses no call; later calls go to the other server', async () => {
    const a = await startServerChild();
    const b = await startServerChild();
    const client = startClient([a.address, b.address], { connections: 2, timeout: 5000 });
    const pidA = String(a.process.pid);
    const pidB = String(b.process.pid);
    // Each call sleeps 20 ms on the server and answers its pid.
    const traffic = load(16, () => client.call('sleep', bytes('20')));
    await until(
      () => traffic.results.filter((r) => r.ok && String(r.value) === pidA).length >= 50,
      'A served calls',
    );
    a.process.kill('SIGTERM');
    expect(await within(a.exited, 15000, 'the exit of A')).toEqual({ code: 0, signal: null });
    expect(a.lines).toContainEqual({ closed: true });
    const exitedAt = performance.now();
    await until(
      () => traffic.results.filter((r) => r.started > exitedAt).length >= 100,
      'calls after A exited',
    );
    const results = await traffic.stop();
    const failures = results.filter((r) => !r.ok);
    expect(failures).toEqual([]);
    for (const result of results) {
      if (result.started > exitedAt) expect(String(result.ok && result.value)).toBe(pidB);
    }
    expect(results.some((r) => r.ok && String(r.value) === pidA)).toBe(true);
    expect(client.stats().calls).toMatchObject({ failed: 0, inFlight: 0 });
  });

  it('an in-process server.close() loses no call; calls after it go to the other server', async () => {
    const served = { a: 0, b: 0 };
    const service = (name: 'a' | 'b') => ({
      work: async (request: Buffer) => {
        served[name]++;
        await delay(5);
        return Buffer.concat([bytes(`${name}:`), request]);
      },
    });
    const a = await startServer(service('a'));
    const b = await startServer(service('b'));
    const client = startClient([a.address, b.address], { connections: 2, timeout: 5000 });
    let counter = 0;
    const traffic = load(16, () => client.call('work', bytes(String(counter++))));
    await until(() => served.a >= 50 && served.b >= 50, 'both servers served calls');
    await a.close({ timeout: 5000 });
    const closedAt = performance.now();
    const servedByA = served.a;
    await until(
      () => traffic.results.filter((r) => r.started > closedAt).length >= 100,
      'calls after A closed',
    );
    const results = await traffic.stop();
    expect(results.filter((r) => !r.ok)).toEqual([]);
    // Every call got its own answer, from A before the close or from B.
    for (const result of results) {
      expect(String(result.ok && result.value)).toMatch(/^[ab]:\d+$/);
      if (result.started > closedAt) expect(String(result.ok && result.value)).toMatch(/^b:/);
    }
    expect(served.a).toBe(servedByA);
    expect(served.a + served.b).toBeGreaterThanOrEqual(results.length);
  });
});

describe('a server closing with calls in flight', () => {
  it('answers every call it had read before it closes the connection', async () => {
    const running: Array<() => void> = [];
    const server = await startServer({
      work: (request: Buffer) =>
        new Promise<Buffer>((resolve) => {
          const copy = Buffer.from(request);
          running.push(() => resolve(Buffer.concat([bytes('done '), copy])));
        }),
    });
    const client = startClient(server.address, { connections: 1 });
    const calls = Array.from({ length: 3 }, (_, i) => outcome(client.call('work', bytes(`${i}`))));
    await until(() => running.length === 3, 'three calls running');
    const closed = server.close({ timeout: 5000 });
    // The last one to finish is the one whose reply used to be lost with the closing connection.
    for (const finish of running) {
      finish();
      await delay(10);
    }
    await closed;
    expect(await Promise.all(calls)).toMatchObject(
      Array.from({ length: 3 }, (_, i) => ({ ok: true, value: bytes(`done ${i}`) })),
    );
  });
});

describe('GOAWAY', () => {
  it('sends the calls a server never read (seq above its GOAWAY) to another endpoint, and no new call to it', async () => {
    // A keeps every `m` request; B answers everything.
    const rawA = await startRawServer((connection, message) => {
      if (message.kind === Kind.REQUEST && message.method === 'warm') {
        connection.send({ kind: Kind.RESPONSE, seq: message.seq, payload: bytes('A') });
      }
    });
    const fromB: string[] = [];
    const b = await startServer({
      warm: () => bytes('B'),
      m: (request: Buffer) => {
        fromB.push(request.toString());
        return Buffer.concat([bytes('B:'), request]);
      },
    });
    const client = startClient([rawA.address, b.address], { connections: 1 });
    expect(
      (await Promise.all([client.call('warm', bytes('')), client.call('warm', bytes(''))]))
        .map(String)
        .sort(),
    ).toEqual(['A', 'B']);
    await until(
      () => client.stats().endpoints.every((endpoint) => endpoint.connections === 1),
      'both endpoints connected',
    );
    // Round-robin: six of these twelve go to A and wait there.
    const calls = Array.from({ length: 12 }, (_, i) => outcome(client.call('m', bytes(`c${i}`))));
    const connection: RawConnection = await rawA.connection(0);
    await until(() => connection.requests().length === 7, 'six calls at A');
    const held = connection.requests().slice(1);
    // A shuts down: it says it read only the first three, answers those and closes.
    await rawA.stopListening();
    connection.send({ kind: Kind.GOAWAY, seq: held[2]!.seq, payload: bytes('') });
    for (const request of held.slice(0, 3)) {
      connection.send({
        kind: Kind.RESPONSE,
        seq: request.seq,
        closing: true,
        payload: Buffer.concat([bytes('A:'), request.payload]),
      });
    }
    const answeredByA = new Set(held.slice(0, 3).map((request) => request.payload.toString()));
    const answered = held
      .slice(0, 3)
      .map((request) => calls[Number(request.payload.toString().slice(1))]!);
    for (const result of await Promise.all(answered)) expect(result.ok).toBe(true);
    // After the GOAWAY, new calls go to B only.
    const later = await Promise.all(
      Array.from({ length: 6 }, (_, i) => client.call('m', bytes(`later${i}`))),
    );
    expect(later.map(String)).toEqual(Array.from({ length: 6 }, (_, i) => `B:later${i}`));
    expect(connection.requests()).toHaveLength(7);
    connection.socket.end();
    const results = await Promise.all(calls);
    results.forEach((result, i) => {
      const expected = answeredByA.has(`c${i}`) ? `A:c${i}` : `B:c${i}`;
      expect(result).toMatchObject({ ok: true, value: bytes(expected) });
    });
    // The three A never read were sent again, to B, exactly once each.
    const neverRead = held.slice(3).map((request) => request.payload.toString());
    for (const payload of neverRead)
      expect(fromB.filter((seen) => seen === payload)).toHaveLength(1);
    expect(rawA.connections).toHaveLength(1);
  });

  it('reports a call the server never read as not processed when no other endpoint can take it', async () => {
    const raw = await startRawServer();
    const client = startClient(raw.address, { connections: 1, ejectAfter: 1 });
    const read = client.call('m', bytes('read'));
    const unread = outcome(client.call('m', bytes('unread')));
    const connection = await raw.connection(0);
    const [first] = await connection.received(2);
    await raw.stopListening();
    connection.send({ kind: Kind.GOAWAY, seq: first!.seq, payload: bytes('') });
    connection.send({ kind: Kind.RESPONSE, seq: first!.seq, closing: true, payload: bytes('ok') });
    expect(String(await read)).toBe('ok');
    connection.socket.end();
    // Sent again after the close, it finds no endpoint: it never ran anywhere.
    expect(await unread).toMatchObject({
      ok: false,
      error: { code: 'ERR_NETPOLL_RPC_UNAVAILABLE', processed: false },
    });
  });

  it('counts a call the GOAWAY names as read: lost with its connection, it fails processed and is not resent', async () => {
    const raw = await startRawServer();
    const client = startClient(raw.address, { connections: 1 });
    const read = outcome(client.call('m', bytes('read')));
    const connection = await raw.connection(0);
    const [first] = await connection.received(1);
    connection.send({ kind: Kind.GOAWAY, seq: first!.seq, payload: bytes('') });
    // The client took the GOAWAY once it dials a replacement; then the old connection dies.
    await raw.connection(1);
    connection.socket.destroy();
    expect(await within(read, 5000, 'the call')).toMatchObject({
      ok: false,
      error: { code: 'ERR_NETPOLL_RPC_UNAVAILABLE', processed: true },
    });
    // It may have run: sending it again could run it twice.
    expect(raw.requests()).toHaveLength(1);
  });

  it('opens the replacement of a connection that got GOAWAY at once, without waiting for a call', async () => {
    const raw = await startRawServer((connection, message) => {
      answerPings(connection, message);
      if (message.kind === Kind.REQUEST) {
        connection.send({ kind: Kind.RESPONSE, seq: message.seq, payload: message.payload });
      }
    });
    const client = startClient(raw.address, { connections: 1 });
    expect(String(await client.call('m', bytes('x')))).toBe('x');
    const first = await raw.connection(0);
    first.send({ kind: Kind.GOAWAY, seq: 1, payload: bytes('') });
    await raw.connection(1);
    // The old one, idle, is closed by the client; the next call goes on the new one.
    await first.closed;
    expect(String(await client.call('m', bytes('y')))).toBe('y');
    expect(raw.connections[1]!.requests()).toHaveLength(1);
  });

  // Found by the rpc fuzz run (test/fuzz): a peer that answers every connection with GOAWAY
  // naming nothing read made a call with no deadline re-dial and resend forever.
  it('stops resending a call no server reads after a bounded number of attempts', async () => {
    const raw = await startRawServer((connection, message) => {
      if (message.kind !== Kind.REQUEST) return;
      connection.send({ kind: Kind.GOAWAY, seq: 0, payload: bytes('') });
      connection.socket.end();
    });
    const client = startClient(raw.address, { connections: 1, timeout: 0 });
    const result = await within(outcome(client.call('m', bytes('x'))), 5000, 'the call');
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'ERR_NETPOLL_RPC_UNAVAILABLE', processed: false },
    });
    expect(raw.requests()).toHaveLength(5);
  });

  it('sends nothing more on a connection after a reply marked CLOSING', async () => {
    const raw = await startRawServer((connection, message) => {
      if (message.kind === Kind.REQUEST) {
        connection.send({
          kind: Kind.RESPONSE,
          seq: message.seq,
          closing: connection === raw.connections[0],
          payload: message.payload,
        });
      }
    });
    const client = startClient(raw.address, { connections: 1 });
    expect(await client.call('m', bytes('first'))).toEqual(bytes('first'));
    expect(await client.call('m', bytes('second'))).toEqual(bytes('second'));
    // The second call went on a new connection; the first one was closed by the client.
    expect(raw.connections).toHaveLength(2);
    expect(raw.connections[0]!.requests()).toHaveLength(1);
    await raw.connections[0]!.closed;
  });
});
