/**
 * Graceful `server.close()`: each connection answers every request it read, sends a GOAWAY whose
 * seq is the highest request read, answers nothing beyond it, and ends with a clean EOF (no
 * reset); `close()` is idempotent and `Symbol.asyncDispose` is `close()`. Also: a request that
 * arrives with the client's EOF (half-close) still gets its reply.
 */
import { connect } from 'node:net';
import { type CallContext, createServer, Kind, type Message } from '../src';
import {
  afterTest,
  type Deferred,
  deferred,
  destroyAfterTest,
  rejection,
  startServer,
  until,
  waitInFlight,
  watchServerConnections,
} from './helpers/server';
import { WireClient } from './helpers/wire-client';

const isGoaway = (message: Message) => message.kind === Kind.GOAWAY;

/** Checks the GOAWAY contract on everything `client` received; returns the GOAWAY's seq. */
function expectGoawayContract(client: WireClient, sent: number): number {
  const goaways = client.received.filter(isGoaway);
  expect(goaways).toHaveLength(1);
  const goaway = goaways[0]!;
  expect(goaway.payload.length).toBe(0);
  const last = goaway.seq;
  const replies = client.replies();
  // Every request up to the GOAWAY's seq has its reply (its own payload), none beyond.
  for (let seq = 1; seq <= last; seq++) {
    expect(replies.get(seq)?.payload.toString()).toBe(`r${seq}`);
  }
  expect([...replies.keys()].filter((seq) => seq > last)).toEqual([]);
  expect(replies.size).toBe(last);
  // Replies written after the GOAWAY say the connection is closing; those before do not.
  const goawayIndex = client.received.indexOf(goaway);
  client.received.forEach((message, index) => {
    if (message.kind === Kind.RESPONSE) expect(message.closing === true).toBe(index > goawayIndex);
  });
  expect(sent).toBeGreaterThanOrEqual(last);
  return last;
}

describe('graceful server.close()', () => {
  it('under load: replies to every request read, GOAWAY with the highest seq, nothing beyond, clean EOF', async () => {
    const server = createServer({
      async work(request: Buffer) {
        await new Promise((resolve) => setImmediate(resolve));
        return Buffer.from(request);
      },
    });
    afterTest(() => server.close({ timeout: 200 }).catch(() => undefined));
    await server.listen('127.0.0.1:0');
    const client = await WireClient.connect(server.address);
    let sent = 0;
    const batch = (count: number) => {
      const frames: Buffer[] = [];
      for (let i = 0; i < count; i++) {
        sent++;
        frames.push(client.requestFrame('work', `r${sent}`, { seq: sent }).frame);
      }
      client.write(Buffer.concat(frames));
    };
    batch(200);
    await client.reply(20); // calls are running: close() meets work in flight
    const closed = server.close({ timeout: 5000 });
    // Sent after close() began: these bytes reach the server after its snapshot of the input,
    // so they are never read. Then keep pipelining until the GOAWAY comes, as a client would.
    batch(50);
    const sentAtClose = sent;
    for (let turns = 0; client.received.find(isGoaway) === undefined; turns++) {
      if (turns > 20000) throw new Error('no GOAWAY came');
      batch(5);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const ending = await client.ended();
    await closed;
    expect(ending).toEqual({ eof: true, error: null });
    const last = expectGoawayContract(client, sent);
    expect(last).toBeGreaterThanOrEqual(20);
    expect(last).toBeLessThan(sentAtClose - 49); // the batch sent after close() was not read
  });

  it('a call running at close() gets its reply after the GOAWAY, with CLOSING', async () => {
    const gate = deferred();
    let started = 0;
    const server = await startServer({
      async wait(request: Buffer) {
        started++;
        await gate.promise;
        return Buffer.from(request);
      },
    });
    const client = await WireClient.connect(server.address);
    client.request('wait', 'r1');
    await until(() => started === 1, 'the handler started');
    const closed = server.close({ timeout: 5000 });
    const goaway = await client.waitFor(isGoaway, 'the GOAWAY');
    expect(goaway.seq).toBe(1);
    gate.resolve();
    expect(await client.reply(1)).toEqual({
      kind: Kind.RESPONSE,
      seq: 1,
      closing: true,
      payload: Buffer.from('r1'),
    });
    expect(await client.ended()).toEqual({ eof: true, error: null });
    await expect(closed).resolves.toEqual({ complete: true }); // it finished within the timeout
    expectGoawayContract(client, 1);
  });

  it('an idle connection gets a GOAWAY naming its last request, then EOF', async () => {
    const server = await startServer({ echo: (request: Buffer) => Buffer.from(request) });
    const client = await WireClient.connect(server.address);
    for (let seq = 1; seq <= 3; seq++) await client.call('echo', `r${seq}`, { seq });
    const fresh = await WireClient.connect(server.address);
    fresh.send({ kind: Kind.PING, seq: 1, payload: Buffer.alloc(0) });
    await fresh.waitFor((message) => message.kind === Kind.PONG, 'the pong');
    await server.close({ timeout: 5000 });
    expect(await client.ended()).toEqual({ eof: true, error: null });
    expect(expectGoawayContract(client, 3)).toBe(3);
    // A connection that never sent a request: GOAWAY 0 ("none").
    expect(await fresh.ended()).toEqual({ eof: true, error: null });
    expect(fresh.received.filter(isGoaway).map((message) => message.seq)).toEqual([0]);
  });

  it('requests held unread at maxConcurrentCalls when close() runs are not answered', async () => {
    const gates: Deferred<void>[] = [];
    const server = await startServer(
      {
        async wait(request: Buffer) {
          const gate = deferred();
          gates.push(gate);
          await gate.promise;
          return Buffer.from(request);
        },
      },
      { maxConcurrentCalls: 2 },
    );
    const client = await WireClient.connect(server.address);
    const frames = [1, 2, 3, 4, 5].map((seq) => client.requestFrame('wait', `r${seq}`, { seq }));
    client.write(Buffer.concat(frames.map(({ frame }) => frame)));
    await until(() => gates.length === 2, 'two handlers started');
    const closed = server.close({ timeout: 5000 });
    const goaway = await client.waitFor(isGoaway, 'the GOAWAY');
    expect(goaway.seq).toBe(2);
    gates[0]!.resolve();
    await client.reply(1);
    gates[1]!.resolve();
    expect(await client.ended()).toEqual({ eof: true, error: null });
    await closed;
    expect(gates).toHaveLength(2); // requests 3–5 never started
    expectGoawayContract(client, 5);
  });

  it('closes what is left at the timeout: running calls see CONNECTION_CLOSED', async () => {
    const reason = deferred<string>();
    const server = await startServer({
      async forever(_request: Buffer, context: CallContext) {
        context.signal.addEventListener('abort', () =>
          reason.resolve((context.signal.reason as { code: string }).code),
        );
        await new Promise(() => {});
      },
    });
    const client = await WireClient.connect(server.address);
    client.request('forever', '');
    await waitInFlight(server, 1);
    // The timeout closed a call still running: the close says it was not complete.
    await expect(server.close({ timeout: 20 })).resolves.toEqual({ complete: false });
    expect(await reason.promise).toBe('CONNECTION_CLOSED');
    const ending = await client.ended();
    expect(client.replies().size).toBe(0);
    expect(client.received.filter(isGoaway).map((message) => message.seq)).toEqual([1]);
    expect(ending.error?.code ?? 'EOF').toMatch(/^(EOF|ECONNRESET)$/);
  });

  it('rejects with an AbortError when its signal aborts, after closing everything', async () => {
    const server = await startServer({ forever: () => new Promise(() => {}) });
    const client = await WireClient.connect(server.address);
    client.request('forever', '');
    await waitInFlight(server, 1);
    const controller = new AbortController();
    const closing = server.close({ timeout: 60_000, signal: controller.signal });
    await client.waitFor(isGoaway, 'the GOAWAY');
    controller.abort(new Error('enough'));
    const error = await rejection(closing);
    expect([error.name, error.code]).toEqual(['AbortError', 'ABORT_ERR']);
    await client.ended();
  });

  it('returns the same promise when called twice; Symbol.asyncDispose waits for that close', async () => {
    const server = await startServer({ echo: (request: Buffer) => Buffer.from(request) });
    const first = server.close();
    expect(server.close()).toBe(first);
    expect(server.close({ timeout: 1 })).toBe(first);
    // Typed as TypeScript's AsyncDisposable, as `await using` requires (a promise of nothing).
    const disposable: AsyncDisposable = server;
    let closed = false;
    void first.then(() => {
      closed = true;
    });
    await expect(disposable[Symbol.asyncDispose]()).resolves.toBeUndefined();
    expect(closed).toBe(true);
    expect(await first).toEqual({ complete: true });
  });

  it('Symbol.asyncDispose closes the server: new connections are refused', async () => {
    const server = createServer({ echo: (request: Buffer) => Buffer.from(request) });
    afterTest(() => server.close({ timeout: 200 }));
    await server.listen('127.0.0.1:0');
    const client = await WireClient.connect(server.address);
    expect((await client.call('echo', 'x')).payload.toString()).toBe('x');
    const [host, port] = [server.address.split(':')[0]!, Number(server.address.split(':')[1])];
    await server[Symbol.asyncDispose]();
    expect(await client.ended()).toEqual({ eof: true, error: null });
    const refused = await new Promise<string | undefined>((resolve) => {
      const socket = destroyAfterTest(connect({ host, port }));
      socket.once('connect', () => resolve('connected'));
      socket.once('error', (error: Error & { code?: string }) => resolve(error.code));
    });
    expect(refused).toBe('ECONNREFUSED');
  });

  it('close() before listen() resolves; listen() after close() fails with ERR_NETPOLL_RPC_CLOSED', async () => {
    const server = createServer({ echo: (request: Buffer) => Buffer.from(request) });
    await server.close();
    const error = await rejection(server.listen('127.0.0.1:0'));
    expect(error.code).toBe('ERR_NETPOLL_RPC_CLOSED');
    expect(error.message).toBe('the server is closed');
  });
});

describe('a client that half-closes', () => {
  it('still gets the reply to a request that arrived with its EOF', async () => {
    const gate = deferred();
    let started = 0;
    const server = await startServer({
      async wait(request: Buffer) {
        started++;
        await gate.promise;
        return Buffer.from(request);
      },
    });
    const connections = watchServerConnections();
    const client = await WireClient.connect(server.address);
    client.request('wait', 'late reply');
    await until(() => started === 1, 'the handler started');
    client.end();
    await until(() => connections[0]?.isActive() === false, 'the server saw the EOF');
    gate.resolve();
    const reply = await client.reply(1);
    expect(reply.payload.toString()).toBe('late reply');
    expect((await client.ended()).eof).toBe(true);
  });
});
