/**
 * The counters behind `client.stats()` and `server.stats()`: percentile bounds of the latency
 * histogram, `merge` across reactor threads, and snapshots that do not change afterwards.
 */
import { CallCounters, LatencyHistogram } from '../src/stats';

describe('LatencyHistogram', () => {
  it('gives nearest-rank percentiles never below the true value and at most 12.5 % above from 8 µs', () => {
    const histogram = new LatencyHistogram();
    for (let ms = 1; ms <= 100; ms++) histogram.record(ms);
    const snapshot = histogram.snapshot();
    expect([snapshot.count, snapshot.max]).toEqual([100, 100]);
    for (const [percentile, exact] of [
      [snapshot.p50, 50],
      [snapshot.p90, 90],
      [snapshot.p99, 99],
    ] as const) {
      expect(percentile).toBeGreaterThanOrEqual(exact);
      expect(percentile).toBeLessThanOrEqual(exact * 1.125);
    }
    // Nearest rank of three values: p50 is the second (ceil(0.5 × 3) = 2), not the first.
    const three = new LatencyHistogram();
    for (const ms of [1, 50, 100]) three.record(ms);
    expect(three.snapshot().p50).toBeGreaterThanOrEqual(50);
    expect(three.snapshot().p50).toBeLessThanOrEqual(56.25);
  });

  it('rounds a value at the start of a bucket up to that bucket, not to the next', () => {
    const histogram = new LatencyHistogram();
    // 1.024 ms = 1024 µs, a power of two: its bucket is [1024, 1152) µs.
    for (let i = 0; i < 10; i++) histogram.record(1.024);
    histogram.record(2);
    expect(histogram.snapshot().p50).toBe(1.152);
  });

  it('keeps latencies under 8 µs to 1/8 µs, never below the true value', () => {
    // In ms: 1.5 µs, 5.9 µs, 0.2 µs, and 7.99 µs (the last small bucket).
    for (const ms of [0.0015, 0.0059, 0.0002, 0.00799]) {
      const histogram = new LatencyHistogram();
      for (let i = 0; i < 3; i++) histogram.record(ms);
      histogram.record(1); // the max, far above
      const { p50 } = histogram.snapshot();
      expect(p50).toBeGreaterThanOrEqual(ms);
      expect(p50).toBeLessThanOrEqual(ms + 0.000125);
    }
    // 8 µs starts the first bucket of powers of two: [8, 9) µs.
    const eight = new LatencyHistogram();
    for (let i = 0; i < 3; i++) eight.record(0.008);
    eight.record(1);
    expect(eight.snapshot().p50).toBe(0.009);
  });

  it('never reports a percentile below the true value beyond 2^32 µs (about 71 minutes)', () => {
    const histogram = new LatencyHistogram();
    const eightyMinutes = 80 * 60 * 1000;
    histogram.record(eightyMinutes);
    histogram.record(eightyMinutes + 1);
    expect(histogram.snapshot()).toMatchObject({ p50: eightyMinutes + 1, max: eightyMinutes + 1 });
  });

  it('keeps the max exactly as recorded, and puts NaN and negative values in the first bucket', () => {
    const histogram = new LatencyHistogram();
    // 0.020078… ms × 1000 / 1000 comes back one bit higher: the max must not go through µs (a
    // max read below a value recorded would also put the percentiles capped by it below).
    const ms = 159 / 7919;
    expect((ms * 1000) / 1000).not.toBe(ms);
    histogram.record(ms);
    expect(histogram.snapshot()).toMatchObject({ p50: ms, max: ms });
    const odd = new LatencyHistogram();
    odd.record(Number.NaN);
    odd.record(-1);
    odd.record(2);
    expect(odd.snapshot()).toMatchObject({ count: 3, p50: 0.000125, max: 2 });
  });

  it('reports 0 for every field when nothing was recorded', () => {
    expect(new LatencyHistogram().snapshot()).toEqual({ count: 0, p50: 0, p90: 0, p99: 0, max: 0 });
  });
});

describe('CallCounters', () => {
  it('merges started, in-flight, outcomes, errors by code, and keeps the larger max', () => {
    const a = new CallCounters();
    const b = new CallCounters();
    a.started = 2;
    a.inFlight = 2;
    a.finish(null, 1);
    b.started = 3;
    b.inFlight = 3;
    b.finish('NOT_FOUND', 500);
    b.countError('INVALID_ARGUMENT');
    a.merge(b.state());
    const snapshot = a.snapshot();
    expect(snapshot).toMatchObject({
      started: 5,
      succeeded: 1,
      failed: 1,
      inFlight: 3,
      errors: { NOT_FOUND: 1, INVALID_ARGUMENT: 1 },
    });
    expect([snapshot.latency.count, snapshot.latency.max]).toEqual([2, 500]);
    // A smaller max merged in leaves the larger one.
    const small = new CallCounters();
    small.inFlight = 1;
    small.finish(null, 3);
    a.merge(small.state());
    expect(a.snapshot().latency.max).toBe(500);
  });

  it('gives snapshots that later calls do not change', () => {
    const counters = new CallCounters();
    counters.inFlight = 2;
    counters.finish('UNAVAILABLE', 1);
    const snapshot = counters.snapshot();
    counters.finish('UNAVAILABLE', 1);
    expect(snapshot.errors).toEqual({ UNAVAILABLE: 1 });
    expect(counters.snapshot().errors).toEqual({ UNAVAILABLE: 2 });
  });
});
