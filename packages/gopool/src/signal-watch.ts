/**
 * One 'abort' listener per caller's `AbortSignal`, however many tasks share it: a listener per
 * task would make Node print MaxListenersExceededWarning once more than 10 tasks share a signal
 * (one request's signal passed to every task of a fan-out is common). Internal.
 */

const watchers = new WeakMap<AbortSignal, Set<() => void>>();

/** Runs `onAbort` when `signal` aborts, until {@link unwatchSignal}. */
export function watchSignal(signal: AbortSignal, onAbort: () => void): void {
  let set = watchers.get(signal);
  if (set === undefined) {
    set = new Set();
    watchers.set(signal, set);
    signal.addEventListener('abort', abortAll, { once: true });
  }
  set.add(onAbort);
}

/** Stops watching; the signal's listener goes with its last watcher. */
export function unwatchSignal(signal: AbortSignal, onAbort: () => void): void {
  const set = watchers.get(signal);
  if (set === undefined || !set.delete(onAbort) || set.size > 0) return;
  watchers.delete(signal);
  signal.removeEventListener('abort', abortAll);
}

function abortAll(event: Event): void {
  const signal = event.target as AbortSignal;
  const set = watchers.get(signal);
  if (set === undefined) return;
  // In the order the tasks were submitted. Each leaves the set before it runs, so one that
  // another unwatches meanwhile is skipped, and one that throws does not stop the rest: its
  // error is rethrown on its own, as EventTarget does.
  for (const onAbort of set) {
    set.delete(onAbort);
    try {
      onAbort();
    } catch (error) {
      process.nextTick(() => {
        throw error;
      });
    }
  }
  if (watchers.get(signal) === set) watchers.delete(signal);
}
