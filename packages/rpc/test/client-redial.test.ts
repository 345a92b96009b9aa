/**
 * The re-dial of an ejected endpoint when the dials of one burst fail at different times: the
 * first failure counts (and ejects, with ejectAfter 1) and arms the re-dial; the re-dial fires
 * while the burst's slow dial is still pending, and dials nothing; the slow dial's failure, of an
 * earlier round, does not count. Before the fix nothing re-dialed after that: the endpoint stayed
 * ejected, every call failing fast, for good. The dials are scripted (a refused dial, a slow one),
 * the rest real.
 */
import * as core from '@netpoll/core';
import { bytes, outcome, startClient, startServer } from './helpers/client-harness';

jest.mock('@netpoll/core', () => {
  const actual = jest.requireActual('@netpoll/core');
  return { ...actual, dialConnection: jest.fn(actual.dialConnection) };
});

const realDial = jest.requireActual('@netpoll/core').dialConnection as typeof core.dialConnection;
const dial = core.dialConnection as jest.MockedFunction<typeof core.dialConnection>;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function refused(): Promise<never> {
  return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
}

afterEach(() => dial.mockReset());

it('an ejected endpoint re-dials after a slow dial of the failed burst fails too', async () => {
  const server = await startServer({ echo: (request: Buffer) => request });
  let up = false;
  let call = 0;
  dial.mockImplementation((...args: Parameters<typeof core.dialConnection>) => {
    call++;
    if (call === 1) return refused(); // the burst's first dial: refused at once
    if (call === 2) return sleep(300).then(refused); // its second: refused 300 ms later
    return up ? realDial(...args) : refused();
  });
  const client = startClient(server.address, {
    connections: 2,
    backoffInitial: 50,
    backoffMax: 50,
    ejectAfter: 1,
    pingInterval: 0,
    timeout: 5000,
  });
  const first = await outcome(client.call('echo', bytes('x')));
  expect(first.ok ? 'ok' : first.error.code).toBe('ERR_NETPOLL_RPC_UNAVAILABLE');
  expect(client.stats().endpoints[0]).toMatchObject({ ejected: true });
  up = true;
  // The re-dial comes once the slow dial failed (300 ms), and the endpoint is back.
  const started = performance.now();
  let result = await outcome(client.call('echo', bytes('y')));
  while (!result.ok && performance.now() - started < 3000) {
    await sleep(25);
    result = await outcome(client.call('echo', bytes('y')));
  }
  expect(result.ok ? String(result.value) : result.error.code).toBe('y');
  expect(client.stats().endpoints[0]).toMatchObject({ failures: 0, ejected: false });
});

it('re-dials after backoffInitial, doubles the wait after each failure, and stops at backoffMax', async () => {
  const dials: number[] = [];
  dial.mockImplementation(() => {
    dials.push(performance.now());
    return refused();
  });
  // No jitter: every wait is exactly its base (the factor is 0.8 + 0.4 × random).
  const random = jest.spyOn(Math, 'random').mockReturnValue(0.5);
  // The waits the re-dial timer is armed with, told apart from other timers by the caller.
  const realSetTimeout = global.setTimeout;
  const armed: number[] = [];
  const timers = jest.spyOn(global, 'setTimeout').mockImplementation(((
    callback: () => void,
    ms?: number,
  ) => {
    if (new Error().stack?.includes('armRedial')) armed.push(ms ?? 0);
    return realSetTimeout(callback, ms);
  }) as typeof setTimeout);
  try {
    const client = startClient('127.0.0.1:1', {
      connections: 1,
      backoffInitial: 150,
      backoffMax: 600,
      ejectAfter: 100,
      pingInterval: 0,
    });
    void outcome(client.call('echo', bytes(''), { timeout: 100 }));
    const end = performance.now() + 20_000;
    while (dials.length < 5 && performance.now() < end) await sleep(10);
    client.destroy();
    expect(armed.slice(0, 4)).toEqual([150, 300, 600, 600]);
    // And the dials followed those timers: never earlier (1 ms for the clock's rounding).
    const waits = dials.slice(1, 5).map((at, i) => at - dials[i]!);
    for (const [i, wait] of waits.entries()) expect(wait).toBeGreaterThanOrEqual(armed[i]! - 1);
  } finally {
    timers.mockRestore();
    random.mockRestore();
  }
});
