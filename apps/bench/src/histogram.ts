/**
 * A latency histogram with fixed log-spaced buckets (about 1% wide) from
 * 1 µs to 100 s: recording never allocates, and percentiles are read at the end.
 */
export class LatencyHistogram {
  static readonly kBucketsPerDoubling = 64;
  static readonly kDoublings = 27; // 2^27 µs ≈ 134 s
  readonly #counts = new Float64Array(
    LatencyHistogram.kBucketsPerDoubling * LatencyHistogram.kDoublings + 1,
  );
  #total = 0;

  /** Records one latency, in microseconds. */
  record(micros: number): void {
    const index = Math.min(
      this.#counts.length - 1,
      Math.max(
        0,
        Math.floor(Math.log2(Math.max(micros, 1)) * LatencyHistogram.kBucketsPerDoubling),
      ),
    );
    this.#counts[index]! += 1;
    this.#total += 1;
  }

  /** How many latencies were recorded. */
  get count(): number {
    return this.#total;
  }

  /** The latency at quantile `q` (0..1), in microseconds: the upper edge of its bucket. */
  quantile(q: number): number {
    if (this.#total === 0) return Number.NaN;
    const rank = Math.ceil(q * this.#total);
    let seen = 0;
    for (let index = 0; index < this.#counts.length; index++) {
      seen += this.#counts[index]!;
      if (seen >= rank) return 2 ** ((index + 1) / LatencyHistogram.kBucketsPerDoubling);
    }
    return Number.POSITIVE_INFINITY;
  }

  /** Adds another histogram's counts into this one. */
  merge(other: LatencyHistogram): void {
    for (let index = 0; index < this.#counts.length; index++) {
      this.#counts[index]! += other.#counts[index]!;
    }
    this.#total += other.#total;
  }
}

/** The median of a non-empty list of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
