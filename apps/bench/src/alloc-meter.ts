/**
 * Allocation per call over a measured window, in the process that runs the meter (main thread):
 *
 * - JS heap bytes, exact: a v8.GCProfiler records the used heap before and after every GC, so
 *   what was allocated is the growth between GCs plus the growth since the last one.
 * - ArrayBuffer bytes: `process.memoryUsage().arrayBuffers` is Node's allocator counter; it rises
 *   on every backing store allocated and falls only when the GC's ArrayBuffer sweeper frees one.
 *   It is sampled with the calls counter every `intervalMs`; only intervals with no GC in them or
 *   in the interval before count, so the sum of their rises over the calls they saw is the bytes
 *   allocated per call. (V8's `externalMemory` does not count backing stores. A typed array of
 *   64 bytes or fewer made by `new Uint8Array(n)` keeps its bytes on the JS heap: the heap figure
 *   has it, this one does not.)
 *
 * While it runs, the meter turns V8's concurrent ArrayBuffer sweeping off: by default the sweeper
 * frees on a helper thread up to ~15 ms after a GC (measured on Node 20), so frees leaked into
 * "clear" intervals: a loop of 1 KiB `allocUnsafeSlow` read 840 B/op, one of 128 bytes -13 to 75.
 * Without it the sweep is done inside the GC pause, every free falls in an interval that does not
 * count, and those loops read 1024 and 128. The work is the same, moved to the main thread; the
 * bench pins each process to one CPU, where the helper thread took that CPU anyway.
 *
 * The only cost on the calls is the counter the caller keeps; the meter samples on an unref'd
 * timer (a memoryUsage() every 5 ms) and records GC times with a PerformanceObserver.
 */
import { type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { setTimeout as delay, setImmediate as yieldToLoop } from 'node:timers/promises';
import { GCProfiler, getHeapStatistics, setFlagsFromString } from 'node:v8';

/** What the meter read over a window. */
export interface AllocFigures {
  /** Calls counted over the window. */
  readonly calls: number;
  /** GCs over the window. */
  readonly gcs: number;
  /** JS heap bytes allocated over the window. */
  readonly heapBytes: number;
  /** `heapBytes / calls`; null without calls. */
  readonly heapBytesPerCall: number | null;
  /** Calls seen by the sampling intervals clear of GC (what the ArrayBuffer figure rests on). */
  readonly arrayBufferCalls: number;
  /** ArrayBuffer bytes allocated over those intervals. */
  readonly arrayBufferBytes: number;
  /**
   * `arrayBufferBytes / arrayBufferCalls`; null when those intervals saw fewer than `minCalls`
   * calls (too few for a figure worth printing) or the GC times could not all be had.
   */
  readonly arrayBufferBytesPerCall: number | null;
}

export interface AllocMeterOptions {
  /** Sampling period of the ArrayBuffer counter, ms (default 5). */
  readonly intervalMs?: number;
  /** Fewest calls the clear intervals must see for an ArrayBuffer figure (default 1000). */
  readonly minCalls?: number;
}

/** One sample of the counters: when, the allocator's ArrayBuffer bytes, the calls so far. */
export interface AllocSample {
  readonly time: number;
  readonly arrayBuffers: number;
  readonly calls: number;
}

/** A GC's pause, as performance.now() times. */
export interface GcSpan {
  readonly start: number;
  readonly end: number;
}

/**
 * Sums the ArrayBuffer rises and the calls over the intervals between consecutive `samples` that
 * have no GC in them nor in the interval before (the sweeper may still be freeing then). The first
 * interval has no interval before it whose GCs are known, so it never counts.
 */
export function sumClearIntervals(
  samples: readonly AllocSample[],
  gcs: readonly GcSpan[],
): { readonly bytes: number; readonly calls: number } {
  let bytes = 0;
  let calls = 0;
  let next = 0; // gcs are sorted by start: the first that may still overlap
  for (let index = 2; index < samples.length; index++) {
    const from = samples[index - 2]!.time;
    const to = samples[index]!.time;
    while (next < gcs.length && gcs[next]!.end < from) next += 1;
    let clear = true;
    for (let gc = next; gc < gcs.length && gcs[gc]!.start <= to; gc++) {
      if (gcs[gc]!.end >= from) {
        clear = false;
        break;
      }
    }
    if (!clear) continue;
    bytes += samples[index]!.arrayBuffers - samples[index - 1]!.arrayBuffers;
    calls += samples[index]!.calls - samples[index - 1]!.calls;
  }
  return { bytes, calls };
}

/** Whether this process was started with concurrent ArrayBuffer sweeping off (stop() keeps it so). */
const kSweepingOffFromTheStart = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((arg) =>
  /--no[-_]concurrent[-_]array[-_]buffer[-_]sweeping/.test(arg),
);

/** How long stop() waits at most for the window's GC entries to be delivered. */
const kGcEntriesWaitMs = 1000;

/** Measures allocation per call between start() and stop(); one window per meter. */
export class AllocMeter {
  readonly #calls: () => number;
  readonly #intervalMs: number;
  readonly #minCalls: number;
  readonly #samples: AllocSample[] = [];
  readonly #gcs: GcSpan[] = [];
  readonly #profiler = new GCProfiler();
  readonly #observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as PerformanceEntry[]) {
      this.#gcs.push({ start: entry.startTime, end: entry.startTime + entry.duration });
    }
  });
  #timer: NodeJS.Timeout | undefined;
  #heapAtStart = 0;
  #openedAt = 0;
  #state: 'new' | 'running' | 'stopped' = 'new';

  /** `calls()` returns the calls made so far (a counter the caller increments). */
  constructor(calls: () => number, options: AllocMeterOptions = {}) {
    this.#calls = calls;
    this.#intervalMs = options.intervalMs ?? 5;
    this.#minCalls = options.minCalls ?? 1000;
  }

  #sample(): void {
    this.#samples.push({
      time: performance.now(),
      arrayBuffers: process.memoryUsage().arrayBuffers,
      calls: this.#calls(),
    });
  }

  /** Opens the window. */
  start(): void {
    if (this.#state !== 'new') throw new Error('an AllocMeter measures one window');
    this.#state = 'running';
    setFlagsFromString('--no-concurrent-array-buffer-sweeping');
    this.#observer.observe({ entryTypes: ['gc'] });
    this.#openedAt = performance.now();
    this.#profiler.start();
    this.#heapAtStart = getHeapStatistics().used_heap_size;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), this.#intervalMs).unref();
  }

  /**
   * Closes the window at once, then resolves with the figures once the window's GC entries
   * (delivered asynchronously) have arrived.
   */
  async stop(): Promise<AllocFigures> {
    if (this.#state !== 'running') throw new Error('the AllocMeter is not running');
    this.#state = 'stopped';
    clearInterval(this.#timer);
    this.#sample();
    const heapAtEnd = getHeapStatistics().used_heap_size;
    const { statistics } = this.#profiler.stop();
    let heapBytes = 0;
    let usedAfterLastGc = this.#heapAtStart;
    for (const gc of statistics) {
      heapBytes += gc.beforeGC.heapStatistics.usedHeapSize - usedAfterLastGc;
      usedAfterLastGc = gc.afterGC.heapStatistics.usedHeapSize;
    }
    heapBytes += heapAtEnd - usedAfterLastGc;

    // The profiler and the observer see the same GCs: wait until every one of the window's has
    // been delivered, so no interval is taken as clear for want of its GC entry.
    const first = this.#samples[0]!;
    const last = this.#samples[this.#samples.length - 1]!;
    const inWindow = () =>
      this.#gcs.filter((gc) => gc.start >= this.#openedAt && gc.start <= last.time).length;
    const deadline = performance.now() + kGcEntriesWaitMs;
    await yieldToLoop();
    while (inWindow() < statistics.length && performance.now() < deadline) {
      await yieldToLoop();
      await delay(1);
    }
    this.#observer.disconnect();
    if (!kSweepingOffFromTheStart) setFlagsFromString('--concurrent-array-buffer-sweeping');
    const gcsKnown = inWindow() >= statistics.length;
    const clear = sumClearIntervals(
      this.#samples,
      [...this.#gcs].sort((a, b) => a.start - b.start),
    );
    const calls = last.calls - first.calls;
    return {
      calls,
      gcs: statistics.length,
      heapBytes,
      heapBytesPerCall: calls > 0 ? heapBytes / calls : null,
      arrayBufferCalls: clear.calls,
      arrayBufferBytes: clear.bytes,
      arrayBufferBytesPerCall:
        gcsKnown && clear.calls >= this.#minCalls && clear.calls > 0
          ? clear.bytes / clear.calls
          : null,
    };
  }
}
