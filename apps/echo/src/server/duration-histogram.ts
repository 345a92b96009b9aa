/**
 * The call latency histogram of one reactor, kept in plain arrays per method and handed to
 * prom-client on a scrape in the shape its registries export. A call costs a bucket search and
 * two additions: prom-client's own `Histogram#observe` validates and hashes the label set on
 * every call, which cost the starter's server about as much CPU as the rest of the call.
 */
interface MethodDurations {
  /** Calls per bucket (not cumulative); the last slot counts calls above the largest bound. */
  readonly counts: number[];
  sum: number;
}

/** One exported value, as prom-client's `Histogram#get` gives it. */
interface ExportedValue {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName: string;
}

/** What registries read from a metric (`getMetricsAsJSON`, and the text format from it). */
interface Exported {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram';
  readonly aggregator: 'sum';
  readonly values: ExportedValue[];
}

export class DurationHistogram {
  readonly name: string;
  readonly help: string;
  readonly #bounds: readonly number[];
  readonly #byMethod = new Map<string, MethodDurations>();

  constructor(name: string, help: string, bounds: readonly number[]) {
    this.name = name;
    this.help = help;
    this.#bounds = bounds;
  }

  observe(method: string, seconds: number): void {
    let durations = this.#byMethod.get(method);
    if (durations === undefined) {
      durations = { counts: new Array<number>(this.#bounds.length + 1).fill(0), sum: 0 };
      this.#byMethod.set(method, durations);
    }
    const bounds = this.#bounds;
    let slot = 0;
    while (slot < bounds.length && seconds > bounds[slot]!) slot++;
    durations.counts[slot]!++;
    durations.sum += seconds;
  }

  /** prom-client's exported form: cumulative `_bucket` values with `le`, then `_sum` and `_count`. */
  async get(): Promise<Exported> {
    const values: ExportedValue[] = [];
    for (const [method, durations] of this.#byMethod) {
      let cumulative = 0;
      this.#bounds.forEach((bound, slot) => {
        cumulative += durations.counts[slot]!;
        values.push({
          labels: { le: bound, method },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      });
      const count = cumulative + durations.counts[this.#bounds.length]!;
      values.push(
        {
          labels: { le: '+Inf', method },
          value: count,
          metricName: `${this.name}_bucket`,
        },
        { labels: { method }, value: durations.sum, metricName: `${this.name}_sum` },
        { labels: { method }, value: count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values };
  }

  reset(): void {
    this.#byMethod.clear();
  }
}
