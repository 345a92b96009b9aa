/**
 * Deadlines and aborts on the server: a request whose deadline passed before it could start is
 * answered DEADLINE_EXCEEDED without running its handler; a running call's `context.signal`
 * aborts with `reason.code` DEADLINE_EXCEEDED at the deadline, CANCELLED on a CANCEL frame and
 * CONNECTION_CLOSED when the client goes away; a cancelled call gets no reply.
 */
import { type CallContext, Kind, type Message, type RpcServer, RpcStatus } from '../src';
import { deferred, eventually, startServer, until, waitInFlight } from './helpers/server';
import { WireClient } from './helpers/wire-client';

type Reason = Error & { code?: string };

/** Resolves with the signal's reason once it aborts. */
function aborted(signal: AbortSignal): Promise<Reason> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(signal.reason as Reason);
    else signal.addEventListener('abort', () => resolve(signal.reason as Reason), { once: true });
  });
}

/** A synchronous handler's work: busy for `ms`. */
function spinFor(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/**
 * Calls `spin` (the payload: the client's index) with `timeout` from two connections, written in
 * one tick so that this thread's reactor reads both requests in one batch; resolves with the
 * two replies.
 */
async function twoInOneBatch(server: RpcServer, timeout: number): Promise<Message[]> {
  const clients = [
    await WireClient.connect(server.address),
    await WireClient.connect(server.address),
  ];
  await eventually(
    async () => (await server.stats()).connections === 2,
    'both connections accepted',
  );
  const requests = clients.map((client, i) =>
    client.requestFrame('spin', Buffer.from([i]), { timeout }),
  );
  for (const [i, client] of clients.entries()) client.write(requests[i]!.frame);
  return Promise.all(clients.map((client, i) => client.reply(requests[i]!.seq)));
}

describe('server deadlines and aborts', () => {
  it('answers DEADLINE_EXCEEDED without running a handler whose deadline passed while it waited', async () => {
    const first = deferred();
    let firstStartedAt = 0;
    const ran: string[] = [];
    const server = await startServer(
      {
        async slow() {
          ran.push('slow');
          firstStartedAt = performance.now();
          await first.promise;
          return Buffer.from('slow done');
        },
        quick() {
          ran.push('quick');
          return Buffer.from('quick done');
        },
      },
      { maxConcurrentCalls: 1 },
    );
    const client = await WireClient.connect(server.address);
    // The second request (a 1 ms deadline) queues behind the first at the concurrency limit.
    const slow = client.requestFrame('slow', '');
    const quick = client.requestFrame('quick', '', { timeout: 1 });
    client.write(Buffer.concat([slow.frame, quick.frame]));
    await until(() => ran.length === 1, 'the slow handler started');
    // Wait (by polling the clock, not sleeping a guessed time) until its deadline has passed.
    await until(() => performance.now() - firstStartedAt > 3, 'the quick deadline passed');
    first.resolve();
    const reply = await client.reply(quick.seq);
    expect(reply).toEqual({
      kind: Kind.ERROR,
      seq: quick.seq,
      code: 'DEADLINE_EXCEEDED',
      message: 'the deadline passed before the call started',
      // Refused before its handler ran.
      refused: true,
      payload: Buffer.alloc(0),
    });
    expect((await client.reply(slow.seq)).payload.toString()).toBe('slow done');
    expect(ran).toEqual(['slow']);
    const stats = await server.stats();
    expect(stats.calls.errors.DEADLINE_EXCEEDED).toBe(1);
  });

  // A handler that works synchronously for 10 ms, past the 2 ms deadline of the request read with
  // it: that request must be refused, not started. A synchronous handler's call finishes (and the
  // server reads the clock) at once; an async one's only after the read turn.
  it.each([
    ['synchronous', false],
    ['async', true],
  ])(
    'answers DEADLINE_EXCEEDED for a request whose deadline passed while an earlier %s handler of the same read ran',
    async (_kind, async) => {
      const ran: string[] = [];
      const busyWork = (): Buffer => {
        ran.push('busy');
        spinFor(10);
        return Buffer.from('busy done');
      };
      const server = await startServer({
        busy: async ? async () => busyWork() : busyWork,
        quick() {
          ran.push('quick');
          return Buffer.from('quick done');
        },
      });
      const client = await WireClient.connect(server.address);
      const busy = client.requestFrame('busy', '');
      const quick = client.requestFrame('quick', '', { timeout: 2 });
      client.write(Buffer.concat([busy.frame, quick.frame])); // one read: one turn of the server
      expect((await client.reply(busy.seq)).payload.toString()).toBe('busy done');
      expect(await client.reply(quick.seq)).toMatchObject({
        kind: Kind.ERROR,
        code: 'DEADLINE_EXCEEDED',
        message: 'the deadline passed before the call started',
        refused: true,
      });
      expect(ran).toEqual(['busy']);
    },
  );

  it('gives a call with a deadline its time remaining', async () => {
    const seen = deferred<{ remaining: number; deadlineTime: number; now: number }>();
    const server = await startServer({
      look(_request: Buffer, context: CallContext) {
        seen.resolve({
          remaining: context.timeRemaining(),
          deadlineTime: context.deadlineTime,
          now: Date.now(),
        });
        return Buffer.alloc(0);
      },
    });
    const client = await WireClient.connect(server.address);
    await client.call('look', '', { timeout: 60_000 });
    const { remaining, deadlineTime, now } = await seen.promise;
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(60_000);
    expect(deadlineTime).toBeGreaterThan(now);
    expect(deadlineTime).toBeLessThanOrEqual(now + 60_000 + 1);
  });

  it('aborts context.signal with reason.code DEADLINE_EXCEEDED at the deadline', async () => {
    const reason = deferred<{ reason: Reason; remaining: number }>();
    const server = await startServer({
      async wait(_request: Buffer, context: CallContext) {
        const why = await aborted(context.signal);
        reason.resolve({ reason: why, remaining: context.timeRemaining() });
        return Buffer.from('late');
      },
    });
    const client = await WireClient.connect(server.address);
    client.request('wait', '', { timeout: 30 });
    const { reason: why, remaining } = await reason.promise;
    expect(why).toBeInstanceOf(Error);
    expect(why.code).toBe('DEADLINE_EXCEEDED');
    expect(why.message).toBe('the call deadline passed');
    expect(remaining).toBe(0);
  });

  it('answers INTERNAL, not DEADLINE_EXCEEDED, when a handler that ran fails at its deadline', async () => {
    // DEADLINE_EXCEEDED tells the client the handler did not run (it may retry elsewhere): a
    // handler that ran and then failed because its deadline passed is an INTERNAL failure.
    const server = await startServer({
      async wait(_request: Buffer, context: CallContext) {
        throw await aborted(context.signal);
      },
    });
    const client = await WireClient.connect(server.address);
    const reply = await client.call('wait', '', { timeout: 20 });
    expect([reply.kind, reply.code, reply.message]).toEqual([
      Kind.ERROR,
      'INTERNAL',
      'internal error',
    ]);
    const stats = await server.stats();
    expect(stats.calls.errors).toEqual({ INTERNAL: 1 });
  });

  it('keeps the code of an RpcStatus thrown after the deadline', async () => {
    const server = await startServer({
      async wait(_request: Buffer, context: CallContext) {
        await aborted(context.signal);
        throw new RpcStatus('ABORTED', 'gave up');
      },
    });
    const client = await WireClient.connect(server.address);
    const reply = await client.call('wait', '', { timeout: 20 });
    expect([reply.code, reply.message]).toEqual(['ABORTED', 'gave up']);
  });

  it('dates requests by the read batch: a wait behind another connection counts against the deadline and in the latency', async () => {
    const remaining: number[] = [];
    const server = await startServer({
      spin(_request: Buffer, context: CallContext) {
        remaining.push(context.timeRemaining());
        spinFor(30); // the other request read in the batch waits
        return Buffer.alloc(0);
      },
    });
    await twoInOneBatch(server, 1000);
    expect(remaining[0]).toBeGreaterThan(990);
    expect(remaining[1]).toBeLessThanOrEqual(remaining[0]! - 29);
    const { latency } = (await server.stats()).calls;
    expect(latency.count).toBe(2);
    expect(latency.max).toBeGreaterThanOrEqual(60);
  });

  it('answers DEADLINE_EXCEEDED for a request whose deadline passed while another connection’s handler of the same batch ran', async () => {
    const ran: number[] = [];
    const server = await startServer({
      spin(request: Buffer) {
        ran.push(request[0]!);
        spinFor(40); // outlasts both deadlines
        return Buffer.alloc(0);
      },
    });
    // Whichever runs first delays the other.
    const replies = await twoInOneBatch(server, 10);
    expect(ran).toHaveLength(1);
    const refused = replies[ran[0] === 0 ? 1 : 0]!;
    expect(refused).toMatchObject({
      kind: Kind.ERROR,
      code: 'DEADLINE_EXCEEDED',
      message: 'the deadline passed before the call started',
      refused: true,
    });
  });

  it('aborts context.signal with reason.code CANCELLED on a CANCEL frame and sends no reply', async () => {
    const reasons: Reason[] = [];
    const server = await startServer({
      async resolves(_request: Buffer, context: CallContext) {
        reasons.push(await aborted(context.signal));
        return Buffer.from('nobody wants this');
      },
      async rejects(_request: Buffer, context: CallContext) {
        const why = await aborted(context.signal);
        reasons.push(why);
        throw why;
      },
      echo: (request: Buffer) => Buffer.from(request),
    });
    const client = await WireClient.connect(server.address);
    const resolves = client.request('resolves', '');
    const rejects = client.request('rejects', '', { timeout: 60_000 });
    await waitInFlight(server, 2);
    client.send({ kind: Kind.CANCEL, seq: resolves, payload: Buffer.alloc(0) });
    client.send({ kind: Kind.CANCEL, seq: rejects, payload: Buffer.alloc(0) });
    await until(() => reasons.length === 2, 'both signals aborted');
    expect(reasons.map((reason) => [reason.code, reason.message])).toEqual([
      ['CANCELLED', 'the client canceled the call'],
      ['CANCELLED', 'the client canceled the call'],
    ]);
    // Barriers: a call, then a ping read after the cancelled handlers settled.
    expect((await client.call('echo', 'after')).payload.toString()).toBe('after');
    client.send({ kind: Kind.PING, seq: 5, payload: Buffer.alloc(0) });
    await client.waitFor((message) => message.kind === Kind.PONG, 'the pong');
    expect(client.replies().has(resolves)).toBe(false);
    expect(client.replies().has(rejects)).toBe(false);
    await waitInFlight(server, 0);
  });

  it('aborts context.signal with reason.code CONNECTION_CLOSED when the connection is gone', async () => {
    const reasons: Reason[] = [];
    const server = await startServer({
      async wait(_request: Buffer, context: CallContext) {
        reasons.push(await aborted(context.signal));
        return Buffer.alloc(0);
      },
    });
    // One client resets its connection (a crashed peer); the other sends a malformed frame, so
    // the server closes it.
    const reset = await WireClient.connect(server.address);
    reset.request('wait', '');
    const garbage = await WireClient.connect(server.address);
    garbage.request('wait', '');
    await waitInFlight(server, 2);
    reset.reset();
    garbage.write(Buffer.from('0000000621000000000001', 'hex')); // protocol version 2
    await until(() => reasons.length === 2, 'both signals aborted');
    expect(reasons.map((reason) => [reason.code, reason.message])).toEqual([
      ['CONNECTION_CLOSED', 'the connection closed'],
      ['CONNECTION_CLOSED', 'the connection closed'],
    ]);
    await garbage.ended();
  });

  it('does not abort the signal of a call that finished before its deadline', async () => {
    let signal: AbortSignal | null = null;
    const server = await startServer({
      look(_request: Buffer, context: CallContext) {
        signal = context.signal;
        return Buffer.alloc(0);
      },
    });
    const client = await WireClient.connect(server.address);
    await client.call('look', '', { timeout: 5 });
    // Past the deadline, a later round trip: the finished call's signal stays quiet.
    const start = performance.now();
    await until(() => performance.now() - start > 10, 'the old deadline passed');
    await client.call('look', '');
    expect((signal as AbortSignal | null)?.aborted).toBe(false);
  });

  it("never aborts an ended call's signal at its deadline, whether read while it ran or after", async () => {
    let during: AbortSignal | null = null;
    let context: CallContext | null = null;
    const server = await startServer({
      watch(_request: Buffer, call: CallContext) {
        during = call.signal; // watched while it runs: joins the deadline heap
        return Buffer.alloc(0);
      },
      keep(_request: Buffer, call: CallContext) {
        context = call; // its signal first read once the call ended
        return Buffer.alloc(0);
      },
    });
    const client = await WireClient.connect(server.address);
    await client.call('watch', '', { timeout: 30 });
    await client.call('keep', '', { timeout: 30 });
    const after = (context as CallContext | null)!.signal;
    // Well past both deadlines, with timers run in between.
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect([(during as AbortSignal | null)?.aborted, after.aborted]).toEqual([false, false]);
  });
});
