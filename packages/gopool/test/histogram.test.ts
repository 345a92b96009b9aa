import { Histogram } from '../src/histogram';

describe('Histogram', () => {
  it('reports 0 with no samples', () => {
    expect(new Histogram().percentile(50)).toBe(0);
  });

  it('is exact below 8 µs and within 12.5% above', () => {
    const h = new Histogram();
    h.record(5);
    expect(h.percentile(50)).toBe(5);
    for (const value of [10, 100, 1234, 99_999, 5_000_000]) {
      const one = new Histogram();
      one.record(value);
      const reported = one.percentile(99);
      expect(reported).toBeGreaterThanOrEqual(value);
      expect(reported).toBeLessThanOrEqual(value * 1.125);
    }
  });

  it('finds p50 and p99 by rank', () => {
    const h = new Histogram();
    for (let i = 0; i < 98; i++) h.record(2);
    h.record(1000);
    h.record(1000);
    expect(h.count).toBe(100);
    expect(h.percentile(50)).toBe(2);
    expect(h.percentile(99)).toBeGreaterThanOrEqual(1000);
    h.reset();
    expect(h.count).toBe(0);
    expect(h.percentile(99)).toBe(0);
  });

  it('counts negative samples as 0 and clamps huge ones', () => {
    const h = new Histogram();
    h.record(-3);
    expect(h.percentile(50)).toBe(0);
    h.record(1e12);
    expect(h.percentile(100)).toBeGreaterThan(4e9);
  });
});
