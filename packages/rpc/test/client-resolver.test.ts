/**
 * Where endpoints come from: a static list, a custom Resolver whose list changes (a new endpoint
 * gets calls, a removed one finishes its calls in flight and is closed), a resolver that fails,
 * and DNS (`dnsResolver('localhost:port')`, `'dns:localhost:port'`).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { dnsResolver, Kind, type Resolver, staticResolver } from '../src';
import {
  bytes,
  type Deferred,
  deferred,
  outcome,
  rejection,
  startClient,
  startRawServer,
  startServer,
  until,
} from './helpers/client-harness';

/** A resolver the test drives: `update(list)` reports a new list; it records `close()`. */
function manualResolver() {
  let onUpdate: ((addresses: readonly string[]) => void) | null = null;
  let onError: ((error: Error) => void) | null = null;
  const state = { started: 0, closed: 0 };
  const resolver: Resolver = {
    start(update, error) {
      state.started++;
      onUpdate = update;
      onError = error;
    },
    close() {
      state.closed++;
    },
  };
  return {
    resolver,
    state,
    update: (addresses: readonly string[]) => onUpdate!(addresses),
    fail: (error: Error) => onError!(error),
  };
}

/** A server answering `who` with its name; `hold` waits until the test releases it. */
async function named(name: string) {
  const held: Array<Deferred<void>> = [];
  let served = 0;
  const server = await startServer({
    who: () => {
      served++;
      return bytes(name);
    },
    hold: async () => {
      const gate = deferred();
      held.push(gate);
      await gate.promise;
      return bytes(`${name} held`);
    },
  });
  return {
    server,
    held,
    get served() {
      return served;
    },
  };
}

describe('resolvers', () => {
  it('a static list (array or staticResolver) sends calls to every address', async () => {
    const a = await named('a');
    const b = await named('b');
    for (const target of [
      [a.server.address, b.server.address],
      staticResolver([a.server.address, b.server.address]),
    ]) {
      const client = startClient(target, { connections: 1 });
      const answers = new Set<string>();
      for (let i = 0; i < 10; i++) answers.add(String(await client.call('who', bytes(''))));
      expect([...answers].sort()).toEqual(['a', 'b']);
      expect(client.stats().endpoints.map((endpoint) => endpoint.address)).toEqual([
        a.server.address,
        b.server.address,
      ]);
    }
  });

  it('follows a custom resolver: a new endpoint gets calls, a removed one finishes its calls and is closed', async () => {
    const a = await named('a');
    const b = await named('b');
    const manual = manualResolver();
    const client = startClient(manual.resolver, { connections: 1, timeout: 0 });
    expect(manual.state.started).toBe(1);
    // Calls made before the first list wait for it.
    const early = client.call('who', bytes(''));
    manual.update([a.server.address]);
    expect(String(await early)).toBe('a');

    // One call held at A, then B joins: calls go to both.
    const inFlight = client.call('hold', bytes(''));
    await until(() => a.held.length === 1, 'a call held at A');
    manual.update([a.server.address, b.server.address]);
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(String(await client.call('who', bytes(''))));
    expect(answers).toContain('b');
    expect(client.stats().endpoints.map((endpoint) => endpoint.address)).toEqual([
      a.server.address,
      b.server.address,
    ]);

    // A leaves: new calls go to B only; the call in flight at A still gets A's answer.
    manual.update([b.server.address]);
    const servedByA = a.served;
    for (let i = 0; i < 10; i++) expect(String(await client.call('who', bytes('')))).toBe('b');
    expect(a.served).toBe(servedByA);
    expect((await a.server.stats()).connections).toBe(1);
    a.held[0]!.resolve();
    expect(String(await inFlight)).toBe('a held');
    // Its last call done, the removed endpoint's connection is closed.
    let connections = -1;
    for (let i = 0; i < 400 && connections !== 0; i++) {
      connections = (await a.server.stats()).connections;
      if (connections !== 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(connections).toBe(0);
    expect(client.stats().endpoints.map((endpoint) => endpoint.address)).toEqual([
      b.server.address,
    ]);
    await client.close();
    expect(manual.state.closed).toBe(1);
  });

  it('fails calls with ERR_NETPOLL_RPC_UNAVAILABLE when the resolver fails before any list', async () => {
    const manual = manualResolver();
    const client = startClient(manual.resolver);
    const call = rejection(client.call('who', bytes('')));
    const failure = new Error('registry unreachable');
    manual.fail(failure);
    const error = await call;
    expect(error.code).toBe('ERR_NETPOLL_RPC_UNAVAILABLE');
    expect(error.processed).toBe(false);
    expect(error.message).toBe('no endpoint can take call who: registry unreachable');
    expect(error.cause).toBe(failure);
  });

  it('fails calls fast once the resolver reports an empty list', async () => {
    const a = await named('a');
    const manual = manualResolver();
    const client = startClient(manual.resolver);
    manual.update([a.server.address]);
    expect(String(await client.call('who', bytes('')))).toBe('a');
    manual.update([]);
    const error = await rejection(client.call('who', bytes('')));
    expect(error.code).toBe('ERR_NETPOLL_RPC_UNAVAILABLE');
    expect(error.processed).toBe(false);
    expect(error.message).toBe('no endpoint can take call who');
    expect(client.stats().endpoints).toEqual([]);
    manual.update([a.server.address]);
    expect(String(await client.call('who', bytes('')))).toBe('a');
  });

  it('keeps the last list when the resolver fails later', async () => {
    const a = await named('a');
    const manual = manualResolver();
    const client = startClient(manual.resolver);
    manual.update([a.server.address]);
    expect(String(await client.call('who', bytes('')))).toBe('a');
    manual.fail(new Error('refresh failed'));
    expect(String(await client.call('who', bytes('')))).toBe('a');
  });

  it("dnsResolver('localhost:port') resolves the name and serves calls on what it found", async () => {
    const a = await named('a');
    const port = a.server.address.split(':')[1]!;
    for (const target of [dnsResolver(`localhost:${port}`), `dns:localhost:${port}`]) {
      const client = startClient(target, { connections: 1, timeout: 5000 });
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => client.call('who', bytes(''))),
      );
      expect(answers.map(String)).toEqual(Array.from({ length: 10 }, () => 'a'));
      const addresses = client.stats().endpoints.map((endpoint) => endpoint.address);
      expect(addresses).toContain(`127.0.0.1:${port}`);
      for (const address of addresses) expect(address).toMatch(new RegExp(`:${port}$`));
    }
  });

  it('dnsResolver fails calls with the lookup error for a name that does not resolve', async () => {
    const client = startClient(dnsResolver('no-such-host.invalid:4000'), { timeout: 5000 });
    const error = await rejection(client.call('who', bytes('')));
    expect(error.code).toBe('ERR_NETPOLL_RPC_UNAVAILABLE');
    expect((error.cause as { code?: string }).code).toBe('ENOTFOUND');
  });

  it.each(['mux', 'pool'] as const)(
    '%s: calls waiting at an endpoint removed before its dial completes go to the remaining one',
    async (transport) => {
      const a = await named('a');
      const b = await named('b');
      const manual = manualResolver();
      const client = startClient(manual.resolver, { transport, timeout: 5000 });
      manual.update([a.server.address]);
      // Made in the same tick as the update: it waits at A for A's first dial.
      const call = outcome(client.call('who', bytes('')));
      manual.update([b.server.address]);
      const started = performance.now();
      const result = await call;
      expect(result.ok ? String(result.value) : result.error.code).toBe('b');
      // Not after the call's deadline: at once, on B.
      expect(performance.now() - started).toBeLessThan(2500);
      expect(a.served).toBe(0);
    },
  );

  it('destroy() fails a call in flight at a removed endpoint at once', async () => {
    const a = await named('a');
    const b = await named('b');
    const manual = manualResolver();
    const client = startClient(manual.resolver, { connections: 1, timeout: 0 });
    manual.update([a.server.address]);
    const inFlight = rejection(client.call('hold', bytes('')));
    await until(() => a.held.length === 1, 'a call held at A');
    manual.update([b.server.address]);
    client.destroy();
    const error = await inFlight;
    expect(error.code).toBe('ERR_NETPOLL_RPC_CLOSED');
    expect(b.served).toBe(0);
    // Its connection went with it: once the handler is done, the server has no connection left
    // (the client's side is closed, not kept open for a reply nobody waits for).
    a.held[0]!.resolve();
    let connections = -1;
    for (let i = 0; i < 400 && connections !== 0; i++) {
      connections = (await a.server.stats()).connections;
      if (connections !== 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(connections).toBe(0);
  });

  it('a removed endpoint whose server hangs is still pinged: its call in flight fails, not waits forever', async () => {
    // Answers pings until told to hang; never answers the request.
    let hung = false;
    const a = await startRawServer((connection, message) => {
      if (!hung && message.kind === Kind.PING) {
        connection.send({ kind: Kind.PONG, seq: message.seq, payload: message.payload });
      }
    });
    const b = await named('b');
    const manual = manualResolver();
    const client = startClient(manual.resolver, {
      connections: 1,
      timeout: 0,
      pingInterval: 50,
      pingTimeout: 50,
    });
    manual.update([a.address]);
    const inFlight = rejection(client.call('hold', bytes('')));
    await until(() => a.requests().length === 1, 'the request at A');
    manual.update([b.server.address]);
    hung = true;
    const error = await inFlight;
    expect(error.code).toBe('ERR_NETPOLL_RPC_UNAVAILABLE');
    expect(error.message).toBe('no pong within pingTimeout (50 ms)');
  });

  it('a resolver that never answers holds no settled calls', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const manual = manualResolver();
    const client = startClient(manual.resolver, { timeout: 1 });
    const burst = async (count: number, refs?: Array<WeakRef<Buffer>>) => {
      const calls = [];
      for (let i = 0; i < count; i++) {
        const payload = Buffer.alloc(16, i);
        refs?.push(new WeakRef(payload));
        calls.push(outcome(client.call('who', payload)));
      }
      for (const result of await Promise.all(calls)) {
        expect(result.ok ? 'ok' : result.error.code).toBe('ERR_NETPOLL_RPC_TIMEOUT');
      }
    };
    const refs: Array<WeakRef<Buffer>> = [];
    await burst(1000, refs);
    await burst(100);
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    // The first burst's calls timed out long ago: nothing holds their requests any more.
    expect(refs.filter((ref) => ref.deref() !== undefined).length).toBe(0);
  });
});
