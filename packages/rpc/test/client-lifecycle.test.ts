/**
 * The end of a client: close() refuses new calls (ERR_NETPOLL_RPC_CLOSED), waits for the calls
 * in flight, then closes its connections and its resolver; destroy() fails what is in flight at
 * once; Symbol.asyncDispose is close(); and a closed client leaves nothing keeping a process
 * alive.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { type Resolver, RpcError } from '../src';
import {
  bytes,
  closedPort,
  type Deferred,
  deferred,
  outcome,
  rejection,
  serverConnections,
  startClient,
  startServer,
  until,
  within,
} from './helpers/client-harness';

/** A server whose `hold` calls wait for the test; `held` has one gate per call. */
async function holdingServer() {
  const held: Array<Deferred<void>> = [];
  const server = await startServer({
    hold: async (request: Buffer) => {
      const copy = Buffer.from(request);
      const gate = deferred();
      held.push(gate);
      await gate.promise;
      return copy;
    },
    echo: (request: Buffer) => Buffer.from(request),
  });
  return { server, held };
}

/** Runs `script` in a child process with the built package's createClient in scope. */
function runScript(
  script: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dist = join(__dirname, '..', 'dist', 'index.js');
  const source = `const { createClient } = require(${JSON.stringify(dist)});\n${script}`;
  return new Promise((resolve) => {
    // The limit is a safety net against a hang (whether it ends is what is tested).
    execFile(process.execPath, ['-e', source], { timeout: 20000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A resolver over a fixed list that counts its close() calls. */
function countingResolver(addresses: string[]) {
  const state = { closed: 0 };
  const resolver: Resolver = {
    start: (onUpdate) => queueMicrotask(() => onUpdate(addresses)),
    close: () => {
      state.closed++;
    },
  };
  return { resolver, state };
}

describe('client lifecycle', () => {
  it('close() refuses new calls, waits for the calls in flight, then closes its connections and resolver', async () => {
    const { server, held } = await holdingServer();
    const { resolver, state } = countingResolver([server.address]);
    const client = startClient(resolver, { connections: 2 });
    const inFlight = [client.call('hold', bytes('a')), client.call('hold', bytes('b'))];
    await until(() => held.length === 2, 'two calls in flight');
    let closed = false;
    const closing = client.close().then(() => {
      closed = true;
    });
    expect(client.close()).toBe(client.close());
    const refused = await rejection(client.call('echo', bytes('late')));
    expect(refused).toBeInstanceOf(RpcError);
    expect(refused.code).toBe('ERR_NETPOLL_RPC_CLOSED');
    expect(refused.message).toBe('the client is closed');
    expect(refused.processed).toBe(false);
    expect((await rejection(client.oneWay('echo', bytes('late')))).code).toBe(
      'ERR_NETPOLL_RPC_CLOSED',
    );
    // Still waiting for the two calls.
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    expect(state.closed).toBe(0);
    held[0]!.resolve();
    expect(String(await inFlight[0])).toBe('a');
    expect(closed).toBe(false);
    held[1]!.resolve();
    expect(String(await inFlight[1])).toBe('b');
    await closing;
    expect(state.closed).toBe(1);
    expect(client.stats().calls).toMatchObject({ started: 2, succeeded: 2, inFlight: 0 });
    await serverConnections(server, 0);
  });

  it('close() with nothing in flight resolves at once and closes the connections', async () => {
    const { server } = await holdingServer();
    const client = startClient(server.address, { connections: 3 });
    await client.call('echo', bytes('x'));
    await until(() => client.stats().endpoints[0]?.connections === 3, 'three connections');
    await client.close();
    await serverConnections(server, 0);
  });

  it('close() waits for a call that waits for a connection, until it settles', async () => {
    const client = startClient({ start: () => {}, close: () => {} });
    const call = outcome(client.call('echo', bytes(''), { timeout: 100 }));
    await client.close();
    expect(await call).toMatchObject({ ok: false, error: { code: 'ERR_NETPOLL_RPC_TIMEOUT' } });
  });

  it('destroy() fails the calls in flight with ERR_NETPOLL_RPC_CLOSED at once and closes everything', async () => {
    const { server, held } = await holdingServer();
    const { resolver, state } = countingResolver([server.address]);
    const client = startClient(resolver, { timeout: 0 });
    const inFlight = outcome(client.call('hold', bytes('a')));
    await until(() => held.length === 1, 'a call in flight');
    const unresolved = startClient({ start: () => {}, close: () => {} });
    const waiting = outcome(unresolved.call('echo', bytes('')));
    client.destroy();
    unresolved.destroy();
    expect(await within(inFlight, 2000, 'the call in flight')).toMatchObject({
      ok: false,
      error: { code: 'ERR_NETPOLL_RPC_CLOSED' },
    });
    expect(await within(waiting, 2000, 'the waiting call')).toMatchObject({
      ok: false,
      error: { code: 'ERR_NETPOLL_RPC_CLOSED' },
    });
    expect(state.closed).toBe(1);
    expect(client.stats().endpoints[0]!.connections).toBe(0);
    expect((await rejection(client.call('echo', bytes('')))).code).toBe('ERR_NETPOLL_RPC_CLOSED');
    await within(client.close(), 1000, 'close() after destroy()');
    // The server keeps a connection whose handler still runs; once it is done, none is left.
    held[0]!.resolve();
    await serverConnections(server, 0);
  });

  it('destroy() settles a one-way call written in this tick but not yet flushed (CLOSED)', async () => {
    const notes: string[] = [];
    const server = await startServer({
      echo: (request: Buffer) => Buffer.from(request),
      note: (request: Buffer) => {
        notes.push(String(request));
      },
    });
    const client = startClient(server.address, { connections: 1 });
    await client.call('echo', bytes('warm'));
    const sent = outcome(client.oneWay('note', bytes('x')));
    client.destroy();
    expect(await within(sent, 2000, 'the one-way call')).toMatchObject({
      ok: false,
      error: { code: 'ERR_NETPOLL_RPC_CLOSED' },
    });
    await serverConnections(server, 0);
    expect(notes).toEqual([]);
  });

  it('destroy() during close() fails what is left, and close() resolves', async () => {
    const { server, held } = await holdingServer();
    const client = startClient(server.address, { timeout: 0 });
    const inFlight = outcome(client.call('hold', bytes('a')));
    await until(() => held.length === 1, 'a call in flight');
    const closing = outcome(client.close());
    client.destroy();
    expect(await within(inFlight, 2000, 'the call in flight')).toMatchObject({
      ok: false,
      error: { code: 'ERR_NETPOLL_RPC_CLOSED' },
    });
    expect(await within(closing, 2000, 'close()')).toMatchObject({ ok: true });
    expect(client.stats().endpoints[0]!.connections).toBe(0);
    held[0]!.resolve();
    await serverConnections(server, 0);
  });

  it('Symbol.asyncDispose closes it gracefully', async () => {
    const { server, held } = await holdingServer();
    const client = startClient(server.address);
    const inFlight = client.call('hold', bytes('a'));
    await until(() => held.length === 1, 'a call in flight');
    const disposed = client[Symbol.asyncDispose]();
    expect(disposed).toBe(client.close());
    expect((await rejection(client.call('echo', bytes('')))).code).toBe('ERR_NETPOLL_RPC_CLOSED');
    held[0]!.resolve();
    expect(String(await inFlight)).toBe('a');
    await disposed;
    await serverConnections(server, 0);
  });

  it('a closed client leaves nothing that keeps the process alive', async () => {
    const { server } = await holdingServer();
    const result = await runScript(`
      const client = createClient(${JSON.stringify(server.address)}, { connections: 2, pingInterval: 50 });
      client.call('echo', Buffer.from('hi')).then(async (answer) => {
        await client.close();
        console.log(String(answer));
      });
    `);
    expect(result).toEqual({ code: 0, stdout: 'hi\n', stderr: '' });
  });

  it('a call in flight keeps the process alive until it settles, also without a socket', async () => {
    const down = await closedPort();
    // Waiting out a re-dial backoff, then waiting for a resolver that never answers.
    const result = await runScript(`
      const report = (error) => console.log(error.code);
      createClient(${JSON.stringify(down)}, { connections: 1 }).call('m', Buffer.from('')).catch(report);
      createClient({ start() {}, close() {} }).call('m', Buffer.from(''), { timeout: 300 }).catch(report);
    `);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.split('\n').sort()).toEqual([
      '',
      'ERR_NETPOLL_RPC_TIMEOUT',
      'ERR_NETPOLL_RPC_UNAVAILABLE',
    ]);
  });
});
