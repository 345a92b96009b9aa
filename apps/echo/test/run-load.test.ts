import type { EchoClient } from '../src/client/echo-client';
import { formatLoadSummary, quantile, runLoad } from '../src/client/run-load';

/** A client whose n-th call (from 1) does what `outcome(n)` says. */
function fakeClient(outcome: (n: number) => Promise<unknown>) {
  let calls = 0;
  let inFlight = 0;
  let most = 0;
  const client = {
    async call() {
      calls++;
      inFlight++;
      most = Math.max(most, inFlight);
      try {
        return await outcome(calls);
      } finally {
        inFlight--;
      }
    },
  } as unknown as EchoClient;
  return { client, count: () => calls, most: () => most };
}

const coded = (code: string, processed: boolean, remoteCode?: string) =>
  Promise.reject(Object.assign(new Error(code), { code, processed, remoteCode }));

describe('quantile', () => {
  it('is the nearest rank of sorted values', () => {
    const values = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(quantile(values, 0.5)).toBe(5);
    expect(quantile(values, 0.9)).toBe(9);
    expect(quantile(values, 0.99)).toBe(10);
    expect(quantile(values, 0)).toBe(1);
    expect(quantile(new Float64Array(0), 0.5)).toBe(0);
  });
});

describe('runLoad', () => {
  it('makes exactly `calls` calls with `concurrency` in flight and counts each outcome', async () => {
    const fake = fakeClient(async (n) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (n % 10 === 0) return coded('ERR_NETPOLL_RPC_REMOTE', false, 'INVALID_ARGUMENT');
      if (n % 25 === 0) return coded('ERR_NETPOLL_RPC_TIMEOUT', true);
      return { message: 'ok' };
    });
    const progress: number[] = [];
    const summary = await runLoad(fake.client, {
      method: 'echo',
      request: { message: 'x' },
      concurrency: 8,
      calls: 100,
      duration: 0,
      onProgress: (settled) => progress.push(settled),
    });
    expect(fake.count()).toBe(100);
    expect(fake.most()).toBe(8);
    expect(progress).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    // 10 INVALID_ARGUMENT (every 10th), 2 timeouts (25 and 75; 50 and 100 are 10ths).
    expect(summary).toMatchObject({
      method: 'echo',
      calls: 100,
      succeeded: 88,
      failed: 12,
      notProcessed: 10,
      errors: { INVALID_ARGUMENT: 10, ERR_NETPOLL_RPC_TIMEOUT: 2 },
    });
    expect(summary.latency.p50).toBeGreaterThan(0);
    expect(summary.latency.p50).toBeLessThanOrEqual(summary.latency.p99);
    expect(summary.latency.p99).toBeLessThanOrEqual(summary.latency.max);
    expect(formatLoadSummary(summary)).toContain(
      'errors by code: INVALID_ARGUMENT 10, ERR_NETPOLL_RPC_TIMEOUT 2',
    );
  });

  it('stops after `duration`, even when calls fail at once (no server)', async () => {
    const fake = fakeClient(() => coded('ERR_NETPOLL_RPC_UNAVAILABLE', false));
    const started = performance.now();
    const timer = setTimeout(() => {}, 10); // a timer must still get its turn meanwhile
    const summary = await runLoad(fake.client, {
      method: 'health',
      request: {},
      concurrency: 4,
      calls: 0,
      duration: 100,
    });
    clearTimeout(timer);
    expect(performance.now() - started).toBeGreaterThanOrEqual(99);
    expect(performance.now() - started).toBeLessThan(5000); // it stopped (a busy machine may stall)
    expect(summary.calls).toBe(fake.count());
    expect(summary).toMatchObject({
      succeeded: 0,
      failed: summary.calls,
      notProcessed: summary.calls,
    });
    expect(summary.errors).toEqual({ ERR_NETPOLL_RPC_UNAVAILABLE: summary.calls });
    expect(summary.latency).toEqual({ p50: 0, p90: 0, p99: 0, max: 0 });
    // Printed, it does not pass those zeros off as measured latencies.
    expect(formatLoadSummary(summary).split('\n')[2]).toBe('latency ms: none (no call succeeded)');
  });

  it('stops starting calls when its signal aborts', async () => {
    const fake = fakeClient(() => new Promise((resolve) => setTimeout(resolve, 2)));
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 50);
    const summary = await runLoad(fake.client, {
      method: 'echo',
      request: { message: '' },
      concurrency: 2,
      calls: 0,
      duration: 60_000,
      signal: stop.signal,
    });
    expect(summary.calls).toBe(fake.count());
    expect(summary.calls).toBeGreaterThan(0);
    expect(summary.seconds).toBeLessThan(5);
  });
});
