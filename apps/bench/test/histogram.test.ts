import { LatencyHistogram, median } from '../src/histogram';

describe('LatencyHistogram', () => {
  it('reports quantiles within one bucket (about 1.1%) of the exact value', () => {
    const histogram = new LatencyHistogram();
    for (let micros = 1; micros <= 10_000; micros++) histogram.record(micros);
    expect(histogram.count).toBe(10_000);
    const p50 = histogram.quantile(0.5);
    const p99 = histogram.quantile(0.99);
    expect(p50).toBeGreaterThanOrEqual(5000);
    expect(p50).toBeLessThanOrEqual(5000 * 1.011);
    expect(p99).toBeGreaterThanOrEqual(9900);
    expect(p99).toBeLessThanOrEqual(9900 * 1.011);
  });

  it('merges counts and answers NaN when empty', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    expect(a.quantile(0.5)).toBeNaN();
    a.record(10);
    b.record(1000);
    b.record(1000);
    a.merge(b);
    expect(a.count).toBe(3);
    expect(a.quantile(0.5)).toBeGreaterThanOrEqual(1000);
  });
});

describe('median', () => {
  it('takes the middle value, or the mean of the two middle values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
