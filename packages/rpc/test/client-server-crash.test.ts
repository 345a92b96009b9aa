/**
 * A server process killed with SIGKILL, then restarted on the same port: the calls it had fail
 * (ERR_NETPOLL_RPC_UNAVAILABLE, never stuck past their timeout), the endpoint backs off and is
 * ejected after `ejectAfter` failed dials (calls then fail at once), keeps re-dialing in the
 * background, and comes back by itself once the server is up again.
 */

import { startServerChild } from './helpers/client-child';
import { bytes, outcome, startClient, until, within } from './helpers/client-harness';

jest.setTimeout(60_000);

describe('a server killed and restarted', () => {
  it('fails its calls, ejects the endpoint after ejectAfter failures, and recovers after the restart', async () => {
    const first = await startServerChild();
    const timeout = 3000;
    const client = startClient(first.address, {
      timeout,
      connections: 2,
      backoffInitial: 50,
      backoffMax: 200,
      ejectAfter: 2,
    });
    const firstPid = String(await client.call('pid', bytes('')));
    expect(firstPid).toBe(String(first.process.pid));

    // Calls in flight when the server dies.
    const started = performance.now();
    // They sleep far longer than any stall of this process before the kill could last.
    const inFlight = Array.from({ length: 10 }, () =>
      outcome(client.call('sleep', bytes('20000'), { timeout: 10_000 })),
    );
    await until(() => client.stats().endpoints[0]!.pending === 10, 'ten calls in flight');
    first.process.kill('SIGKILL');
    expect(await within(first.exited, 10000, 'the exit')).toEqual({
      code: null,
      signal: 'SIGKILL',
    });
    for (const result of await Promise.all(inFlight)) {
      expect(result).toMatchObject({
        ok: false,
        error: { code: 'ERR_NETPOLL_RPC_UNAVAILABLE', processed: true },
      });
      expect(result.at - started).toBeLessThan(10_000);
    }

    // While it is down: calls fail fast, dials fail and back off, then the endpoint is ejected.
    const down: Array<Awaited<ReturnType<typeof outcome>>> = [];
    while (down.length < 5 || !client.stats().endpoints[0]!.ejected) {
      if (down.length === 100) throw new Error('100 calls failed and the endpoint is not ejected');
      const callStarted = performance.now();
      const result = await outcome(client.call('pid', bytes('')));
      expect(result.at - callStarted).toBeLessThan(timeout);
      down.push(result);
    }
    for (const result of down) {
      expect(result).toMatchObject({
        ok: false,
        error: { code: 'ERR_NETPOLL_RPC_UNAVAILABLE', processed: false },
      });
    }
    const ejected = client.stats().endpoints[0]!;
    expect(ejected).toMatchObject({ address: first.address, ejected: true, connections: 0 });
    expect(ejected.failures).toBeGreaterThanOrEqual(2);
    // Nobody calls it now, yet it keeps trying (with backoff): failures go on growing.
    await until(
      () => client.stats().endpoints[0]!.failures >= ejected.failures + 2,
      'background re-dials fail and are counted',
    );

    const second = await startServerChild(first.address);
    expect(second.address).toBe(first.address);
    // Back by itself (the background re-dial works), before any new call.
    await until(() => !client.stats().endpoints[0]!.ejected, 'the endpoint is back', 20000);
    expect(client.stats().endpoints[0]).toMatchObject({ failures: 0, ejected: false });
    expect(String(await client.call('pid', bytes('')))).toBe(String(second.process.pid));
    const after = await Promise.all(
      Array.from({ length: 20 }, () => outcome(client.call('echo', bytes('again')))),
    );
    for (const result of after) expect(result).toMatchObject({ ok: true, value: bytes('again') });
    expect(client.stats().calls.inFlight).toBe(0);
  });
});
