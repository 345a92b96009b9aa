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
