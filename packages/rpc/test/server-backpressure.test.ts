/**
 * maxConcurrentCalls: a connection runs at most that many handlers at once and stops reading at
 * the limit (later frames stay unread, so a PING behind a waiting request is not answered either;
 * one with no request ahead of it is — and while held, the server pings the client itself); as
 * handlers finish, the rest run — nothing is lost. Other connections are not held back. Replies
 * the client leaves unread hold requests back the same way.
 */
import { loadBinding } from '@netpoll/core';
import { createClient, Kind } from '../src';
import {
  afterTest,
  type Deferred,
  deferred,
  eventually,
  startServer,
  until,
  waitInFlight,
  watchServerConnections,
} from './helpers/server';
import { WireClient } from './helpers/wire-client';

describe('maxConcurrentCalls', () => {
  it('stops at the limit while handlers are blocked, then runs the rest; nothing is lost', async () => {
    const gates: Deferred<void>[] = [];
    let running = 0;
    let maxRunning = 0;
    const server = await startServer(
      {
        async block(request: Buffer) {
          running++;
          maxRunning = Math.max(maxRunning, running);
          const gate = deferred();
          gates.push(gate);
          await gate.promise;
          running--;
          return Buffer.from(`reply ${request.toString()}`);
        },
        echo: (request: Buffer) => Buffer.from(request),
      },
      // No PING of the server's own while held (see 'a connection held at the limit' below).
      { maxConcurrentCalls: 2, pausedPingInterval: 0 },
    );
    const client = await WireClient.connect(server.address);
    const frames = Array.from({ length: 6 }, (_, i) => client.requestFrame('block', `r${i + 1}`));
    const ping = { kind: Kind.PING, seq: 77, payload: Buffer.from('behind') } as const;
    client.write(Buffer.concat(frames.map(({ frame }) => frame)));
    client.send(ping);
    await until(() => gates.length === 2, 'two handlers started');

    // A full round trip on another connection: the server has had every chance to start more.
    const other = await WireClient.connect(server.address);
    expect((await other.call('echo', 'free')).payload.toString()).toBe('free');
    expect(gates.length).toBe(2);
    expect(client.received).toEqual([]); // not even the PONG: the ping waits behind the requests
    const blocked = await server.stats();
    expect([blocked.calls.started, blocked.calls.inFlight]).toEqual([2 + 1, 2]);

    // Release one handler at a time: the next request starts, never more than two at once.
    for (let released = 0; released < 6; released++) {
      gates[released]!.resolve();
      const reply = await client.reply(frames[released]!.seq);
      expect(reply.payload.toString()).toBe(`reply r${released + 1}`);
      await until(
        () => gates.length === Math.min(6, released + 3),
        `handler ${Math.min(6, released + 3)} started`,
      );
    }
    expect(maxRunning).toBe(2);
    const pong = await client.waitFor((message) => message.kind === Kind.PONG, 'the pong');
    expect(pong.payload.toString()).toBe('behind');
    expect([...client.replies().keys()].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('answers every one of many pipelined calls under a small limit', async () => {
    let running = 0;
    let maxRunning = 0;
    const server = await startServer(
      {
        async work(request: Buffer) {
          running++;
          maxRunning = Math.max(maxRunning, running);
          await new Promise((resolve) => setImmediate(resolve));
          running--;
          return Buffer.from(request);
        },
      },
      { maxConcurrentCalls: 3 },
    );
    const client = await WireClient.connect(server.address);
    const frames = Array.from({ length: 300 }, (_, i) => client.requestFrame('work', `n${i}`));
    client.write(Buffer.concat(frames.map(({ frame }) => frame)));
    const replies = await Promise.all(frames.map(({ seq }) => client.reply(seq)));
    replies.forEach((reply, i) => {
      expect(reply.payload.toString()).toBe(`n${i}`);
    });
    expect(maxRunning).toBe(3);
    const stats = await server.stats();
    expect([stats.calls.started, stats.calls.succeeded, stats.calls.inFlight]).toEqual([
      300, 300, 0,
    ]);
  });

  it('counts synchronous handlers as finished at once (they never hold a slot)', async () => {
    const server = await startServer(
      { sync: (request: Buffer) => Buffer.from(request) },
      { maxConcurrentCalls: 1 },
    );
    const client = await WireClient.connect(server.address);
    const frames = Array.from({ length: 50 }, (_, i) => client.requestFrame('sync', `s${i}`));
    client.write(Buffer.concat(frames.map(({ frame }) => frame)));
    const replies = await Promise.all(frames.map(({ seq }) => client.reply(seq)));
    expect(replies.map((reply) => reply.payload.toString())).toEqual(frames.map((_, i) => `s${i}`));
  });
});

/** The calling thread's core reactor (kept on the binding object; see core's get-reactor). */
interface ReactorMemory {
  outbound: {
    allocate(size: number): Buffer;
    free(buffer: Buffer): void;
  };
}

describe('requests waiting at the limit', () => {
  it('are not run after the GOAWAY, which names the last request started: the client resends them', async () => {
    const gate = deferred();
    const ran: string[] = [];
    const server = await startServer(
      {
        async block(request: Buffer) {
          ran.push(request.toString());
          await gate.promise;
          return Buffer.from('done');
        },
      },
      { maxConcurrentCalls: 1 },
    );
    const client = await WireClient.connect(server.address);
    const first = client.request('block', 'a');
    client.request('block', 'b');
    client.request('block', 'c');
    await until(() => ran.length === 1, 'the first call');
    const closing = server.close({ timeout: 5000 });
    const goaway = await client.waitFor((message) => message.kind === Kind.GOAWAY, 'the GOAWAY');
    expect(goaway.seq).toBe(first);
    gate.resolve();
    expect((await client.reply(first)).payload.toString()).toBe('done');
    // Closed once the call that ran is answered, not held for the waiting ones.
    expect(await closing).toEqual({ complete: true });
    expect(ran).toEqual(['a']);
  });
});

describe('at the limit, with no request waiting', () => {
  it('answers a PING and applies a CANCEL', async () => {
    const started = deferred<AbortSignal>();
    const server = await startServer(
      {
        async block(_request: Buffer, context: { signal: AbortSignal }) {
          started.resolve(context.signal);
          await new Promise((resolve) => context.signal.addEventListener('abort', resolve));
          return Buffer.from('aborted');
        },
      },
      { maxConcurrentCalls: 1 },
    );
    const client = await WireClient.connect(server.address);
    const seq = client.request('block', '');
    const signal = await started.promise;
    client.send({ kind: Kind.PING, seq: 9, payload: Buffer.from('alive?') });
    const pong = await client.waitFor((message) => message.kind === Kind.PONG, 'the pong');
    expect(pong.payload.toString()).toBe('alive?');
    client.send({ kind: Kind.CANCEL, seq, payload: Buffer.alloc(0) });
    await until(() => signal.aborted, 'the abort');
    expect((signal.reason as { code: string }).code).toBe('CANCELLED');
    // No reply for the canceled call: the next message is this ping's pong.
    client.send({ kind: Kind.PING, seq: 10, payload: Buffer.from('again') });
    await client.waitFor((message) => message.kind === Kind.PONG && message.seq === 10, 'pong 2');
    expect(client.received.map((message) => message.kind)).toEqual([Kind.PONG, Kind.PONG]);
  });
});

/** `block` echoes its request once the test resolves its gate (`gates`, in call order). */
function gatedEcho() {
  const gates: Deferred<void>[] = [];
  const service = {
    async block(request: Buffer) {
      const gate = deferred();
      gates.push(gate);
      await gate.promise;
      return Buffer.from(request);
    },
  };
  return { gates, service };
}

describe('a connection held at the limit', () => {
  it('pings its client while held, and stops once it reads again', async () => {
    const { gates, service } = gatedEcho();
    const server = await startServer(service, { maxConcurrentCalls: 1, pausedPingInterval: 20 });
    const client = await WireClient.connect(server.address);
    const first = client.request('block', 'one');
    const second = client.request('block', 'two');
    await until(() => gates.length === 1, 'the first call');
    // Held: the second request waits unread, and the server pings.
    const pings = () => client.received.filter((message) => message.kind === Kind.PING);
    await client.waitFor(() => pings().length >= 2, 'two pings');
    expect(
      pings()
        .map((ping) => [ping.seq, ping.payload.length])
        .slice(0, 2),
    ).toEqual([
      [1, 0],
      [2, 0],
    ]);
    expect(client.replies().size).toBe(0);

    gates[0]!.resolve();
    expect((await client.reply(first)).payload.toString()).toBe('one');
    await until(() => gates.length === 2, 'the second call');
    // Reading again (the second call holds the one slot, with no request waiting): no more pings.
    const after = pings().length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(pings().length).toBe(after);
    gates[1]!.resolve();
    expect((await client.reply(second)).payload.toString()).toBe('two');
  });

  it('keeps pinging while calls that send no reply free and refill its one slot', async () => {
    // Each one-way call ends before a ping period passes, and the next waiting request takes the
    // slot at once: the connection is held throughout, with nothing written but the pings.
    const server = await startServer(
      {
        async work() {
          await new Promise((resolve) => setTimeout(resolve, 40));
        },
        echo: (request: Buffer) => Buffer.from(request),
      },
      { maxConcurrentCalls: 1, pausedPingInterval: 60 },
    );
    const client = createClient(server.address, {
      connections: 1,
      pingInterval: 100,
      pingTimeout: 150,
    });
    afterTest(() => client.destroy());
    const sent = Array.from({ length: 15 }, () => client.oneWay('work', Buffer.alloc(0)));
    const reply = await client.call('echo', Buffer.from('after'), { timeout: 10_000 }).then(
      (value) => (value as Buffer).toString(),
      (error: Error & { code?: string }) => error.code,
    );
    await Promise.all(sent);
    expect(reply).toBe('after');
    expect(client.stats().endpoints[0]!.connections).toBe(1);
  });

  it('queues no ping while the client reads nothing (its earlier replies wait in the kernel)', async () => {
    const part = Buffer.alloc(128 * 1024, 0x62);
    const gate = deferred();
    const server = await startServer(
      {
        part: () => part,
        async block() {
          await gate.promise;
          return Buffer.from('done');
        },
      },
      { maxConcurrentCalls: 1, pausedPingInterval: 10 },
    );
    const accepted = watchServerConnections();
    const client = await WireClient.connect(server.address);
    client.socket.pause();
    // Replies the client does not read, until the kernel pushes back (below the 1 MiB of unsent
    // output at which the server would hold requests for another reason).
    const parts: number[] = [];
    while (accepted.length === 0 || accepted[0]!.pendingBytes === 0) {
      parts.push(client.request('part', ''));
      await eventually(
        async () => (await server.stats()).calls.succeeded === parts.length,
        'the part answered',
      );
      await new Promise((resolve) => setTimeout(resolve, 5)); // native has written what it could
    }
    const blocked = client.request('block', '1');
    client.request('block', '2'); // waits: the connection is held
    await waitInFlight(server, 1);
    // 30 ping periods with replies unsent: no ping is queued behind them (the kernel takes
    // nothing while the client reads nothing, so the output the server holds stays as it was).
    const held = accepted[0]!.pendingBytes;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(accepted[0]!.pendingBytes).toBe(held);
    client.socket.resume();
    for (const seq of parts) expect((await client.reply(seq)).payload.length).toBe(part.length);
    gate.resolve();
    expect((await client.reply(blocked)).payload.toString()).toBe('done');
  });

  it('keeps the client from taking a busy server for hung (its PING waits behind requests)', async () => {
    const { gates, service } = gatedEcho();
    const server = await startServer(service, { maxConcurrentCalls: 1, pausedPingInterval: 50 });
    const pingInterval = 100;
    const pingTimeout = 150;
    const client = createClient(server.address, { connections: 1, pingInterval, pingTimeout });
    afterTest(() => client.destroy());
    const calls = ['a', 'b'].map((text) =>
      client.call('block', Buffer.from(text), { timeout: 10_000 }).then(
        (reply) => (reply as Buffer).toString(),
        (error: Error & { code?: string }) => error.code,
      ),
    );
    await until(() => gates.length === 1, 'the first call');
    // Silent calls for several times pingInterval + pingTimeout: the client pings, and that PING
    // waits behind the second request; only the server's own pings show it is alive.
    await new Promise((resolve) => setTimeout(resolve, 4 * (pingInterval + pingTimeout)));
    gates[0]!.resolve();
    await until(() => gates.length === 2, 'the second call');
    gates[1]!.resolve();
    expect(await Promise.all(calls)).toEqual(['a', 'b']);
    expect(client.stats().endpoints[0]!.connections).toBe(1);
  });
});

describe('a client that pipelines requests and reads no reply', () => {
  it('gets no more calls started than its unread replies allow, and every reply once it reads', async () => {
    const reply = Buffer.alloc(128 * 1024, 0x61);
    const server = await startServer({ big: () => reply }, { maxFrameSize: 1 << 20 });
    const client = await WireClient.connect(server.address);
    client.socket.pause();
    const count = 400;
    const frames = Array.from({ length: count }, (_, i) => client.requestFrame('big', `${i}`));
    client.write(Buffer.concat(frames.map(({ frame }) => frame)));
    // Let the server run what it will (until the count stops moving).
    let started = -1;
    for (let stable = 0; stable < 5; ) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      const now = (await server.stats()).calls.started;
      stable = now === started ? stable + 1 : 0;
      started = now;
    }
    // The kernel's socket buffers and the connection's 1 MiB of unsent output, not all 400
    // (50 MiB of replies buffered at once, before the fix).
    expect(started).toBeGreaterThan(0);
    expect(started).toBeLessThan(150);
    client.socket.resume();
    await until(() => client.replies().size === count, 'every reply', 20000);
    for (const [seq, message] of client.replies()) {
      expect([seq, message.kind, message.payload.length]).toEqual([
        seq,
        Kind.RESPONSE,
        reply.length,
      ]);
    }
    expect((await server.stats()).calls.succeeded).toBe(count);
  });
});

describe('many large replies queued for slow clients', () => {
  it('do not keep a large reply to another client from going out', async () => {
    const server = await startServer(
      { echo: (request: Buffer) => request },
      { maxFrameSize: 1 << 20 },
    );
    const client = await WireClient.connect(server.address);
    expect((await client.call('echo', 'warm')).payload.toString()).toBe('warm');
    const reactor = (loadBinding() as unknown as Record<symbol, ReactorMemory>)[
      Symbol.for('netpoll.core.reactor')
    ]!;
    // 1500 outbound buffers of this thread's reactor (the server's), each registered on its own,
    // as the queued replies of many slow clients are: more than the 1024 slabs a reactor once
    // registered in all, when the next large reply failed with ENOSPC and was lost.
    const held: Buffer[] = [];
    afterTest(() => {
      for (const buffer of held) reactor.outbound.free(buffer);
    });
    for (let i = 0; i < 1500; i++) held.push(reactor.outbound.allocate(64 * 1024 + 8));
    const payload = Buffer.alloc(200 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
    const reply = await client.call('echo', payload);
    expect(reply.kind).toBe(Kind.RESPONSE);
    expect(Buffer.compare(reply.payload, payload)).toBe(0);
    const stats = await server.stats();
    expect(stats.calls.errors).toEqual({});
    expect(stats.calls.succeeded).toBe(2);
  });
});
