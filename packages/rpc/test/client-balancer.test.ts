/**
 * Spreading calls over endpoints: an endpoint that is down (a closed port) costs no call, the
 * others take them; round-robin gives each ready endpoint its turn; least-pending sends fewer
 * calls to an endpoint whose calls pile up (slow handlers).
 */
import type { ClientOptions, RpcClient } from '../src';
import {
  bytes,
  closedPort,
  outcome,
  startClient,
  startServer,
  until,
} from './helpers/client-harness';

/** `count` servers answering `work` with their index; `served[i]` counts each one's calls. */
async function servers(count: number) {
  const served = Array.from({ length: count }, () => 0);
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) {
    const server = await startServer({
      work: () => {
        served[i]!++;
        return bytes(String(i));
      },
    });
    addresses.push(server.address);
  }
  return { served, addresses };
}

/** Waits until every endpoint of `client` has `connections` connections open. */
async function allConnected(client: RpcClient, connections: number): Promise<void> {
  await until(
    () => client.stats().endpoints.every((endpoint) => endpoint.connections === connections),
    `every endpoint has ${connections} connection(s)`,
  );
}

describe('balancing', () => {
  const transports: Array<[string, ClientOptions]> = [
    ['mux', { connections: 1 }],
    ['pool', { transport: 'pool' }],
  ];
  it.each(transports)(
    'with one of three endpoints down, every call succeeds on the others (%s)',
    async (_name, options) => {
      const { served, addresses } = await servers(2);
      const down = await closedPort();
      const client = startClient([addresses[0]!, down, addresses[1]!], {
        ...options,
        timeout: 5000,
      });
      // A burst first (some calls are first routed to the down endpoint), then one at a time.
      const burst = await Promise.all(
        Array.from({ length: 30 }, () => outcome(client.call('work', bytes('')))),
      );
      const sequential = [];
      for (let i = 0; i < 30; i++) sequential.push(await outcome(client.call('work', bytes(''))));
      for (const result of [...burst, ...sequential]) expect(result.ok).toBe(true);
      expect(served[0]! + served[1]!).toBe(60);
      expect(served[0]).toBeGreaterThan(0);
      expect(served[1]).toBeGreaterThan(0);
      expect(client.stats().calls).toMatchObject({ succeeded: 60, failed: 0 });
      // It keeps failing its re-dials in the background, and is ejected after ejectAfter (3).
      const downStats = () =>
        client.stats().endpoints.find((endpoint) => endpoint.address === down);
      await until(() => downStats()?.ejected === true, 'the down endpoint is ejected');
      expect(downStats()).toMatchObject({ connections: 0 });
      expect(downStats()!.failures).toBeGreaterThanOrEqual(3);
    },
  );

  it('round-robin gives each ready endpoint its turn', async () => {
    const { served, addresses } = await servers(3);
    const client = startClient(addresses, { connections: 1 });
    await Promise.all(Array.from({ length: 3 }, () => client.call('work', bytes(''))));
    await allConnected(client, 1);
    served.fill(0);
    const order: string[] = [];
    for (let i = 0; i < 30; i++) order.push(String(await client.call('work', bytes(''))));
    expect(served).toEqual([10, 10, 10]);
    // In turn: each window of three consecutive calls visits all three endpoints.
    for (let i = 0; i + 3 <= order.length; i++) {
      expect(new Set(order.slice(i, i + 3)).size).toBe(3);
    }
    served.fill(0);
    await Promise.all(Array.from({ length: 60 }, () => client.call('work', bytes(''))));
    expect(served).toEqual([20, 20, 20]);
  });

  it.each(['round-robin', 'least-pending'] as const)(
    '%s dials every endpoint of the list, also when calls come one at a time',
    async (balancer) => {
      const { served, addresses } = await servers(3);
      const client = startClient(addresses, { connections: 1, balancer });
      for (let i = 0; i < 60; i++) await client.call('work', bytes(''));
      expect(served.reduce((sum, count) => sum + count, 0)).toBe(60);
      for (const count of served) expect(count).toBeGreaterThan(0);
      expect(client.stats().endpoints.map((endpoint) => endpoint.connections)).toEqual([1, 1, 1]);
    },
  );

  it('least-pending sends fewer calls to the endpoint whose calls pile up', async () => {
    const counts = [0, 0, 0];
    const release: Array<() => void> = [];
    const addresses: string[] = [];
    for (let i = 0; i < 3; i++) {
      const server = await startServer({
        warm: () => bytes(''),
        // Endpoint 0 is slow: its calls wait until the end of the test.
        work: async () => {
          counts[i]!++;
          if (i === 0) await new Promise<void>((resolve) => release.push(resolve));
          return bytes(String(i));
        },
      });
      addresses.push(server.address);
    }
    const run = async (balancer: 'round-robin' | 'least-pending') => {
      counts.fill(0);
      const client = startClient(addresses, { connections: 1, balancer, timeout: 0 });
      await Promise.all(Array.from({ length: 3 }, () => client.call('warm', bytes(''))));
      await allConnected(client, 1);
      const stuck: Array<Promise<unknown>> = [];
      // One call at a time: the fast endpoints are idle whenever the next call is placed.
      for (let i = 0; i < 90; i++) {
        const call = client.call('work', bytes(''));
        await until(() => counts[0]! + counts[1]! + counts[2]! === i + 1, `call ${i} arrived`);
        if (counts[0] === stuck.length + 1) stuck.push(call);
        else await call;
      }
      const slow = counts[0]!;
      for (const resolve of release.splice(0)) resolve();
      await Promise.all(stuck);
      client.destroy();
      return slow;
    };
    // Round-robin gives the slow endpoint its third; least-pending sends it a call only when
    // both of its two random picks are that endpoint (about one in nine).
    expect(await run('round-robin')).toBe(30);
    const slow = await run('least-pending');
    expect(slow).toBeLessThan(30);
    expect(counts[1]! + counts[2]!).toBe(90 - slow);
  });
});
