/**
 * Counters behind `client.stats()` and `server.stats()`: calls, errors by code, and a latency
 * histogram updated with a few increments per call and read into plain snapshots only when asked.
 * A percentile is never below the true one: it is at most 0.125 µs above it under 8 µs, and at
 * most 12.5 % above it from 8 µs to about 71 minutes (beyond, it is the exact maximum).
 */

/** Under 8 µs: linear buckets of 1/8 µs (a server's synchronous handler can take 2 µs). */
const kSmallBuckets = 64;
/** From 8 µs (2^3) to 2^32 µs: 8 buckets per power of two, then one overflow bucket. */
const kSubBuckets = 8;
const kOverflow = kSmallBuckets + 29 * kSubBuckets;
const kBuckets = kOverflow + 1;

/** Percentiles of call latency in milliseconds (0 when no call finished). */
export interface LatencySnapshot {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** A latency histogram: buckets in microseconds, the maximum kept as recorded (ms). */
export class LatencyHistogram {
  readonly #counts = new Float64Array(kBuckets);
  #count = 0;
  /** In ms, as recorded: a round trip through µs could lose its last bit. */
  #max = 0;

  /** Records one latency in milliseconds. */
  record(milliseconds: number): void {
    this.#counts[bucketOf(milliseconds * 1000)]!++;
    this.#count++;
    if (milliseconds > this.#max) this.#max = milliseconds;
  }

  /** The raw counts, to add to another histogram (`merge`), e.g. across reactor threads. */
  state(): { counts: number[]; count: number; max: number } {
    return { counts: Array.from(this.#counts), count: this.#count, max: this.#max };
  }

  /** Adds another histogram's `state()`. */
  merge(state: { counts: number[]; count: number; max: number }): void {
    for (let i = 0; i < kBuckets; i++) this.#counts[i]! += state.counts[i] ?? 0;
    this.#count += state.count;
    if (state.max > this.#max) this.#max = state.max;
  }

  snapshot(): LatencySnapshot {
    return {
      count: this.#count,
      p50: this.#percentile(0.5),
      p90: this.#percentile(0.9),
      p99: this.#percentile(0.99),
      max: this.#max,
    };
  }

  #percentile(quantile: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.ceil(quantile * this.#count);
    let seen = 0;
    for (let bucket = 0; bucket < kBuckets; bucket++) {
      seen += this.#counts[bucket]!;
      if (seen >= rank) return Math.min(upperBound(bucket) / 1000, this.#max);
    }
    return this.#max;
  }
}

/**
 * The bucket of a latency in µs. From 8 µs on, the power of two, then one of 8 linear steps
 * inside it (integer math: no log per call). Those buckets start at whole µs, so truncating to
 * whole µs keeps a value in its own bucket.
 */
function bucketOf(micros: number): number {
  // Also NaN and negative values (a clock that went back): the first bucket.
  if (!(micros >= 8)) return micros > 0 ? (micros * 8) | 0 : 0;
  if (micros >= 0x100000000) return kOverflow;
  const whole = micros >>> 0;
  const exponent = 31 - Math.clz32(whole);
  const step = (whole >>> (exponent - 3)) & 7;
  return kSmallBuckets + (exponent - 3) * kSubBuckets + step;
}

/** The largest latency in µs a bucket holds (a percentile reports it, capped at the max). */
function upperBound(bucket: number): number {
  if (bucket < kSmallBuckets) return (bucket + 1) / 8;
  if (bucket === kOverflow) return Number.POSITIVE_INFINITY;
  const index = bucket - kSmallBuckets;
  const base = 2 ** (3 + Math.floor(index / kSubBuckets));
  return base + (((index % kSubBuckets) + 1) * base) / kSubBuckets;
}

/** A snapshot of {@link CallCounters}. */
export interface CallStats {
  readonly started: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly inFlight: number;
  /** Failed calls by code. */
  readonly errors: Readonly<Record<string, number>>;
  readonly latency: LatencySnapshot;
}

/** Calls and their outcomes. */
export class CallCounters {
  started = 0;
  succeeded = 0;
  failed = 0;
  inFlight = 0;
  readonly errors: Record<string, number> = Object.create(null);
  readonly latency = new LatencyHistogram();

  /** A call ended: `code` is null on success, else the error code it ended with. */
  finish(code: string | null, milliseconds: number): void {
    this.inFlight--;
    if (code === null) this.succeeded++;
    else {
      this.failed++;
      this.countError(code);
    }
    this.latency.record(milliseconds);
  }

  /** One more error of `code` (also for errors no started call ends with). */
  countError(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  snapshot(): CallStats {
    return {
      started: this.started,
      succeeded: this.succeeded,
      failed: this.failed,
      inFlight: this.inFlight,
      errors: { ...this.errors },
      latency: this.latency.snapshot(),
    };
  }

  /** Everything, to add to another counter set (`merge`). */
  state(): CounterState {
    return {
      started: this.started,
      succeeded: this.succeeded,
      failed: this.failed,
      inFlight: this.inFlight,
      errors: { ...this.errors },
      latency: this.latency.state(),
    };
  }

  merge(state: CounterState): void {
    this.started += state.started;
    this.succeeded += state.succeeded;
    this.failed += state.failed;
    this.inFlight += state.inFlight;
    for (const [code, count] of Object.entries(state.errors)) {
      this.errors[code] = (this.errors[code] ?? 0) + count;
    }
    this.latency.merge(state.latency);
  }
}

/** {@link CallCounters} as plain data (structured-clone safe). */
export interface CounterState {
  started: number;
  succeeded: number;
  failed: number;
  inFlight: number;
  errors: Record<string, number>;
  latency: { counts: number[]; count: number; max: number };
}
