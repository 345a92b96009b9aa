/**
 * Peers that misbehave affect only their own connection: an oversized length header or a
 * malformed frame (bad version, reserved flags, unknown kind, a kind only servers send) closes
 * that connection and the others keep working; a peer that resets mid-call does not crash the
 * server, and the handler's late reply is dropped — the server's stats say so. A peer that reuses
 * the seq of a call still running is closed too: it would otherwise escape maxConcurrentCalls.
 * A peer that stops reading its replies is closed after `writeTimeout`.
 */
import { type CallContext, Kind } from '../src';
import { hex } from './helpers/frames';
import {
  type Deferred,
  deferred,
  eventually,
  startServer,
  until,
  waitInFlight,
} from './helpers/server';
import { WireClient } from './helpers/wire-client';

/** A frame with a 4-byte length header around a hand-written body. */
function frame(body: string): Buffer {
  const bytes = hex(body);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(bytes.length, 0);
  return Buffer.concat([header, bytes]);
}

describe('misbehaving peers', () => {
  it('a length header above maxFrameSize closes only that connection', async () => {
    const server = await startServer(
      { echo: (request: Buffer) => Buffer.from(request) },
      { maxFrameSize: 1024 },
    );
    const good = await WireClient.connect(server.address);
    const bad = await WireClient.connect(server.address);
    expect((await bad.call('echo', 'fine so far')).kind).toBe(Kind.RESPONSE);
    // 6 + 1 + 4 ("echo") + 1013 = 1024 bytes of body: the largest frame accepted.
    expect((await good.call('echo', Buffer.alloc(1013, 7))).payload.length).toBe(1013);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1025, 0);
    bad.write(Buffer.concat([header, Buffer.alloc(100)]));
    const ending = await bad.ended();
    expect(ending.error?.code ?? 'EOF').toMatch(/^(EOF|ECONNRESET)$/);
    expect(bad.replies().size).toBe(1);
    expect((await good.call('echo', 'still served')).payload.toString()).toBe('still served');
    const stats = await server.stats();
    expect(stats.connections).toBe(1);
    expect(stats.calls.errors.ERR_NETPOLL_FRAME_TOO_LARGE).toBe(1);
  });

  it.each([
    ['another protocol version', '21 00 00000002 04 6563686f'],
    ['a reserved flag bit', '11 10 00000002 04 6563686f'],
    ['an unknown kind', '19 00 00000002'],
    ['a RESPONSE (only servers send it)', '12 00 00000002 6f6b'],
    ['an ERROR (only servers send it)', '13 00 00000002 01 58 0000'],
    ['a GOAWAY (only servers send it)', '17 00 00000000'],
    ['a method past the body', '11 00 00000002 09 6563'],
    ['a zero method length', '11 00 00000002 00'],
  ])('%s closes only that connection', async (_name, body) => {
    let runs = 0;
    const server = await startServer({
      echo: (request: Buffer) => {
        runs++;
        return Buffer.from(request);
      },
    });
    const good = await WireClient.connect(server.address);
    const bad = await WireClient.connect(server.address);
    expect((await bad.call('echo', 'first')).payload.toString()).toBe('first');
    // The malformed frame, then a valid request behind it: the server must not answer it.
    bad.write(Buffer.concat([frame(body), bad.requestFrame('echo', 'behind', { seq: 3 }).frame]));
    const ending = await bad.ended();
    expect(ending).toEqual({ eof: true, error: null });
    expect([...bad.replies().keys()]).toEqual([1]);
    expect(runs).toBe(1);
    expect((await good.call('echo', 'still served')).payload.toString()).toBe('still served');
    const stats = await server.stats();
    expect(stats.connections).toBe(1);
    expect(stats.calls.errors.ERR_NETPOLL_RPC_PROTOCOL).toBe(1);
  });

  it('a call whose connection the server closed drops its late reply; stats count it CONNECTION_CLOSED', async () => {
    const gate = deferred<void>();
    const aborted = deferred<string>();
    const server = await startServer({
      async wait(_request: Buffer, context: CallContext) {
        context.signal.addEventListener('abort', () =>
          aborted.resolve((context.signal.reason as { code: string }).code),
        );
        await gate.promise;
        return Buffer.from('late');
      },
    });
    const client = await WireClient.connect(server.address);
    client.request('wait', '');
    await waitInFlight(server, 1);
    client.write(frame('19 00 00000002')); // an unknown kind: the server closes the connection
    expect(await aborted.promise).toBe('CONNECTION_CLOSED');
    await client.ended();
    gate.resolve();
    await waitInFlight(server, 0);
    const stats = await server.stats();
    expect(stats.calls).toMatchObject({ started: 1, succeeded: 0, failed: 1, inFlight: 0 });
    expect(stats.calls.errors).toEqual({ ERR_NETPOLL_RPC_PROTOCOL: 1, CONNECTION_CLOSED: 1 });
    expect(client.replies().size).toBe(0);
  });

  it('a peer reset mid-call aborts the call at once; the late reply is dropped and counted', async () => {
    const gates: Deferred<void>[] = [];
    const reasons: string[] = [];
    const server = await startServer({
      async wait(_request: Buffer, context: CallContext) {
        context.signal.addEventListener('abort', () =>
          reasons.push((context.signal.reason as { code: string }).code),
        );
        const gate = deferred();
        gates.push(gate);
        await gate.promise;
        return Buffer.from('late');
      },
      echo: (request: Buffer) => Buffer.from(request),
    });
    const other = await WireClient.connect(server.address);
    const client = await WireClient.connect(server.address);
    client.request('wait', '');
    client.request('wait', '');
    await waitInFlight(server, 2);
    client.reset();
    await until(() => reasons.length === 2, 'both calls aborted');
    expect(reasons).toEqual(['CONNECTION_CLOSED', 'CONNECTION_CLOSED']);
    expect((await server.stats()).connections).toBe(1);
    for (const gate of gates) gate.resolve();
    await waitInFlight(server, 0);
    expect((await other.call('echo', 'alive')).payload.toString()).toBe('alive');
    const stats = await server.stats();
    expect(stats.calls).toMatchObject({ started: 3, succeeded: 1, failed: 2, inFlight: 0 });
    expect(stats.calls.errors).toEqual({ CONNECTION_CLOSED: 2 });
  });
});

describe('a peer that reuses the seq of a call in flight', () => {
  it('cannot run more than maxConcurrentCalls handlers, nor leave one unaborted at close', async () => {
    const gates: Deferred<void>[] = [];
    const reasons: string[] = [];
    let running = 0;
    let most = 0;
    const server = await startServer(
      {
        async wait(_request: Buffer, context: CallContext) {
          running++;
          most = Math.max(most, running);
          context.signal.addEventListener('abort', () =>
            reasons.push((context.signal.reason as { code: string }).code),
          );
          const gate = deferred();
          gates.push(gate);
          await gate.promise;
          running--;
          return Buffer.from('late');
        },
        echo: (request: Buffer) => Buffer.from(request),
      },
      { maxConcurrentCalls: 2 },
    );
    const other = await WireClient.connect(server.address);
    const bad = await WireClient.connect(server.address);
    // Five requests, all seq 7: the wire format says a seq is unique among calls in flight.
    bad.write(
      Buffer.concat(
        Array.from({ length: 5 }, () => bad.requestFrame('wait', '', { seq: 7 }).frame),
      ),
    );
    // Either the server closes the connection or runs the handlers; the limit holds either way.
    let closed = false;
    void bad.closed.then(() => {
      closed = true;
    });
    await until(() => closed || gates.length === 5, 'the connection closed or five handlers run');
    expect(most).toBeLessThanOrEqual(2);
    const ending = await bad.ended();
    expect(ending).toEqual({ eof: true, error: null });
    // Every handler that started learns that its connection is gone.
    await until(() => reasons.length === gates.length, 'every running call aborted');
    expect(reasons.every((reason) => reason === 'CONNECTION_CLOSED')).toBe(true);
    for (const gate of gates) gate.resolve();
    await waitInFlight(server, 0);
    expect((await other.call('echo', 'alive')).payload.toString()).toBe('alive');
    const stats = await server.stats();
    expect(stats.connections).toBe(1);
    expect(stats.calls.errors.ERR_NETPOLL_RPC_PROTOCOL).toBe(1);
  });

  it('a peer that stops reading its replies is closed after writeTimeout; others go on', async () => {
    const big = Buffer.alloc(256 * 1024, 7);
    const server = await startServer(
      { big: () => big, echo: (request: Buffer) => request },
      {
        writeTimeout: 300,
      },
    );
    const good = await WireClient.connect(server.address);
    const stuck = await WireClient.connect(server.address);
    stuck.socket.pause(); // reads nothing more: the replies fill both socket buffers, then wait
    const started = Date.now();
    for (let i = 0; i < 200; i++) stuck.request('big', '');
    await eventually(async () => (await server.stats()).connections === 1, 'the stuck one closed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect((await server.stats()).calls.errors).toEqual({ ERR_NETPOLL_WRITE_TIMEOUT: 1 });
    stuck.socket.resume(); // now it sees the end: the replies it never read were cut off
    const ending = await stuck.ended();
    expect(ending.eof || ending.error !== null).toBe(true);
    expect((await good.call('echo', 'still here')).payload.toString()).toBe('still here');
  });
});
