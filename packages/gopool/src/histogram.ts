/**
 * A fixed-size log-linear histogram of latencies in microseconds: 8 linear sub-buckets per
 * power of two, so a reported percentile is within 12.5% of the true value. Recording is
 * O(1) with no allocation; memory is 240 counters whatever the number of samples.
 */
const kSubBits = 3;
const kSub = 1 << kSubBits;
const kBuckets = (32 - kSubBits + 1) * kSub;

function bucketOf(micros: number): number {
  const v = micros >= 0xffffffff ? 0xffffffff : Math.round(micros) >>> 0;
  if (v < kSub) return v;
  const exponent = 31 - Math.clz32(v);
  return (exponent - kSubBits + 1) * kSub + ((v >>> (exponent - kSubBits)) & (kSub - 1));
}

function upperBoundOf(bucket: number): number {
  if (bucket < kSub) return bucket;
  const exponent = Math.floor(bucket / kSub) + kSubBits - 1;
  const sub = bucket % kSub;
  return (kSub + sub + 1) * 2 ** (exponent - kSubBits) - 1;
}

/** Latency histogram (µs). Owned by one thread. */
export class Histogram {
  readonly #counts = new Float64Array(kBuckets);
  #total = 0;

  /** Number of samples recorded. */
  get count(): number {
    return this.#total;
  }

  /** Records one latency in microseconds (negative values count as 0). */
  record(micros: number): void {
    this.#counts[bucketOf(Math.max(micros, 0))]!++;
    this.#total++;
  }

  /**
   * The latency (µs) at or below which `percent` % of the samples fall: the upper bound of
   * the bucket holding that rank. 0 when nothing was recorded.
   */
  percentile(percent: number): number {
    if (this.#total === 0) return 0;
    const rank = Math.max(1, Math.ceil((percent / 100) * this.#total));
    let seen = 0;
    for (let i = 0; i < kBuckets; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return upperBoundOf(i);
    }
    return upperBoundOf(kBuckets - 1);
  }

  /** Forgets every sample. */
  reset(): void {
    this.#counts.fill(0);
    this.#total = 0;
  }
}
