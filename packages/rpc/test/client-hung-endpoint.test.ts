/**
 * A hung server whose kernel still accepts connections (a SIGSTOPped process: the handshake
 * completes in the backlog, nothing answers). Pings find each of its connections dead, but a
 * re-dial always "works", so before the fix the endpoint was never backed off nor ejected: each
 * new connection took its share of calls until its ping timed out, again and again, for as long
 * as the server hung (the fault suite's SIGSTOP test). A connection found hung now counts as a
 * failure of its endpoint, like a failed dial, and only a frame from the server (a reply, a pong)
 * clears the count; a connection made while failures are counted is probed with a ping at once.
 */
import { Kind } from '../src';
import {
  afterTest,
  answerPings,
  bytes,
  closedPort,
  outcome,
  type RawHandler,
  startClient,
  startRawServer,
  until,
} from './helpers/client-harness';

jest.setTimeout(30_000);

/** A live server: answers pings, and every request with its own payload. */
const serve: RawHandler = (connection, message) => {
  answerPings(connection, message);
  if (message.kind === Kind.REQUEST) {
    connection.send({ kind: Kind.RESPONSE, seq: message.seq, payload: message.payload });
  }
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('an endpoint whose server hangs but still accepts connections', () => {
  it('is ejected after ejectAfter hung connections, gets no calls while hung, and comes back', async () => {
    const live = await startRawServer(serve);
    const hung = await startRawServer(() => {});
    const pingInterval = 50;
    const pingTimeout = 50;
    const client = startClient([live.address, hung.address], {
      connections: 1,
      pingInterval,
      pingTimeout,
      backoffInitial: 20,
      backoffMax: 100,
      ejectAfter: 2,
      timeout: 5000,
    });
    // Calls from 8 loops until the endpoint is back; each hung connection fails the calls
    // written on it.
    const failedAt: number[] = [];
    const started = performance.now();
    let running = true;
    const loop = async () => {
      while (running) {
        const at = performance.now();
        const result = await outcome(client.call('m', bytes('x')));
        if (!result.ok) failedAt.push(at - started);
        await sleep(2);
      }
    };
    const loops = Array.from({ length: 8 }, loop);
    afterTest(() => {
      running = false;
    });
    // When the client first says the endpoint is ejected (ms after the start, polled every 5 ms).
    let ejectedAt = Number.POSITIVE_INFINITY;
    while (performance.now() - started < 10_000) {
      if (client.stats().endpoints.find((e) => e.address === hung.address)?.ejected) {
        ejectedAt = performance.now() - started;
        break;
      }
      await sleep(5);
    }
    // Two hung connections eject it, each found within pingInterval + pingTimeout plus the
    // liveness checks (every 25 ms here): about 0.4 s (the bound leaves room for a slow machine).
    // Before the fix it was never ejected, and calls kept failing every cycle until the end.
    expect(ejectedAt).toBeLessThan(5000);
    // It is still re-dialled in the background (probed with a ping, given no request); the calls
    // go on meanwhile, and none started once it was ejected may fail.
    const probing = performance.now();
    while (hung.connections.length < 3 && performance.now() - probing < 5000) await sleep(10);
    await sleep(200);
    const requestsWhileHung = hung.requests().length;
    const connectionsWhileHung = hung.connections.length;
    expect(client.stats().endpoints.find((e) => e.address === hung.address)).toMatchObject({
      ejected: true,
    });
    expect(failedAt.length).toBeGreaterThan(0);
    expect(failedAt.filter((at) => at > ejectedAt)).toEqual([]);
    expect(connectionsWhileHung).toBeGreaterThanOrEqual(3);
    const lastConnection = hung.connections[hung.connections.length - 1]!;
    expect(lastConnection.messages.every((message) => message.kind === Kind.PING)).toBe(true);

    // The server wakes up: the next probe gets its pong and calls go there again.
    hung.handler = serve;
    const healed = performance.now();
    while (hung.requests().length === requestsWhileHung && performance.now() - healed < 10_000) {
      await sleep(10);
    }
    const back = performance.now() - healed;
    running = false;
    await Promise.all(loops);
    expect(hung.requests().length).toBeGreaterThan(requestsWhileHung);
    // Back within backoffMax (+20 %), the dial, the probe's round trip and a slack for a slow
    // machine: about 0.2 s here.
    expect(back).toBeLessThan(4000);
    expect(client.stats().endpoints.find((e) => e.address === hung.address)).toMatchObject({
      ejected: false,
      failures: 0,
    });
  });

  it('comes back through the pong of a live connection when only its new connections hang', async () => {
    // The first connection is served; later ones are accepted and never answered (a server out
    // of descriptors: the kernel completes their handshakes, the process never accepts them).
    const server = await startRawServer(() => {});
    server.handler = (connection, message) => {
      if (connection === server.connections[0]) serve(connection, message);
    };
    const client = startClient(server.address, {
      connections: 2,
      // A pong late by more than pingTimeout (a stalled test process) would find the live
      // connection hung too, and nothing would be left to bring the endpoint back.
      pingInterval: 50,
      pingTimeout: 500,
      backoffInitial: 20,
      backoffMax: 100,
      ejectAfter: 2,
      timeout: 5000,
    });
    let running = true;
    afterTest(() => {
      running = false;
    });
    const ejected = () => client.stats().endpoints[0]?.ejected;
    const loop = async () => {
      while (running) {
        await outcome(client.call('m', bytes('x')));
        await sleep(2);
      }
    };
    const loops = Array.from({ length: 4 }, loop);
    const seen = { ejected: false, back: false };
    const started = performance.now();
    while (!(seen.ejected && seen.back) && performance.now() - started < 15_000) {
      if (ejected() === true) seen.ejected = true;
      else if (seen.ejected) seen.back = true;
      await sleep(2);
    }
    running = false;
    await Promise.all(loops);
    // Before pongs cleared failures, the ejected endpoint kept its one live connection idle and
    // never re-dialled (it had a connection), so it stayed ejected.
    expect(seen).toEqual({ ejected: true, back: true });
  });
});

describe('an endpoint whose connections are found hung apart', () => {
  it('keeps re-dialing while ejected and comes back once the server answers', async () => {
    let hung = true;
    const server = await startRawServer((connection, message) => {
      if (!hung) serve(connection, message);
    });
    const client = startClient(server.address, {
      transport: 'pool',
      pingInterval: 200,
      pingTimeout: 200,
      backoffInitial: 20,
      backoffMax: 100,
      ejectAfter: 1,
      timeout: 2000,
    });
    const call = () => outcome(client.call('m', bytes('x')));
    // Two connections of one round, found hung about 400 ms apart: the first failure ejects the
    // endpoint and arms the re-dial, which fires while the second is still open.
    const first = call();
    await sleep(400);
    const second = call();
    for (const result of await Promise.all([first, second])) {
      expect(result.ok ? 'ok' : result.error.code).toBe('ERR_NETPOLL_RPC_UNAVAILABLE');
    }
    expect(client.stats().endpoints[0]).toMatchObject({ ejected: true });
    hung = false;
    // Before the fix nothing re-dialed: every call failed fast, for good.
    const started = performance.now();
    let result = await call();
    while (!result.ok && performance.now() - started < 5000) {
      await sleep(50);
      result = await call();
    }
    expect(result.ok ? 'ok' : result.error.code).toBe('ok');
    expect(client.stats().endpoints[0]).toMatchObject({ failures: 0, ejected: false });
  });

  it('re-dials an ejected mux endpoint once its last open connection closes', async () => {
    // Connections 0 and 1 never answer; from connection 2 on, the server is live.
    const raw = await startRawServer((connection, message) => {
      if (raw.connections.indexOf(connection) >= 2) serve(connection, message);
    });
    const client = startClient(raw.address, {
      connections: 2,
      ejectAfter: 1,
      pingInterval: 100,
      pingTimeout: 200,
      backoffInitial: 20,
      backoffMax: 20,
    });
    void outcome(client.call('m', bytes('x'), { timeout: 100 }));
    const [hung, other] = [await raw.connection(0), await raw.connection(1)];
    // The server pings the client on `other`: busy, it is never pinged, so never found hung.
    // `hung` is, and ejects the endpoint; its re-dial (20 ms) fires while `other` is still open,
    // and dials nothing.
    let seq = 1;
    const keepBusy = setInterval(() => {
      if (!other.ended) other.send({ kind: Kind.PING, seq: seq++, payload: bytes('') });
    }, 50);
    afterTest(() => clearInterval(keepBusy));
    await hung.closed;
    await until(() => client.stats().endpoints[0]!.ejected, 'the endpoint ejected');
    // Then the server closes `other` (not a failure): the endpoint is left with nothing open and
    // must dial again by itself.
    await sleep(100);
    clearInterval(keepBusy);
    other.socket.end();
    await raw.connection(2);
    await until(() => !client.stats().endpoints[0]!.ejected, 'the endpoint back', 5000);
    expect(String(await client.call('m', bytes('y')))).toBe('y');
  });
});

describe('a refused endpoint', () => {
  it('counts the dials of one burst as one failure: a call waits out ejectAfter attempts, not one burst', async () => {
    const refused = await closedPort();
    const client = startClient(refused, {
      connections: 4,
      backoffInitial: 200,
      backoffMax: 200,
      ejectAfter: 3,
      timeout: 5000,
    });
    const started = performance.now();
    const result = await outcome(client.call('m', bytes('x')));
    const elapsed = performance.now() - started;
    expect(result.ok ? 'ok' : result.error.code).toBe('ERR_NETPOLL_RPC_UNAVAILABLE');
    // Three attempts (the first burst of four dials, then one re-dial per backoff of 200 ms ±
    // 20 %) before the endpoint was ejected and the call failed: not one burst counted four times.
    expect(client.stats().endpoints[0]).toMatchObject({ failures: 3, ejected: true });
    expect(elapsed).toBeGreaterThanOrEqual(300);
  });
});
