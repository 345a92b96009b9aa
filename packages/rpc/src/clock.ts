/**
 * The clock of deadlines, timeouts and latencies on both sides: monotonic milliseconds.
 */
import { performance } from 'node:perf_hooks';

/**
 * Monotonic milliseconds. From `node:perf_hooks`: the global `performance` is an accessor on
 * `globalThis`, which V8 does not inline (about 15 ns more per read, a few reads per call).
 */
export function now(): number {
  return performance.now();
}

/** The longest delay Node's timers take (a longer one fires after 1 ms, with a warning). */
const kMaxTimerDelay = 0x7fffffff;

/**
 * A Node timer's delay to reach `deadline` (monotonic ms): at least 0, at most what a timer
 * takes — a later deadline is reached by firing early and arming again.
 */
export function delayUntil(deadline: number): number {
  return Math.min(kMaxTimerDelay, Math.max(0, Math.ceil(deadline - now())));
}
