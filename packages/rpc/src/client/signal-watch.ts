/**
 * The calls watching each caller's `AbortSignal`, behind one 'abort' listener per signal however
 * many calls share it. A listener per call would make Node print MaxListenersExceededWarning
 * once more than 10 calls in flight share a signal (a request-scoped signal for a fan-out is
 * common). A call is its own watcher: no closure per call.
 */

/** What a watched call does when its signal aborts. */
export interface SignalWatcher {
  abortedBy(signal: AbortSignal): void;
}

const watchers = new WeakMap<AbortSignal, Set<SignalWatcher>>();

/** `watcher.abortedBy(signal)` runs when `signal` aborts, until {@link unwatchSignal}. */
export function watchSignal(signal: AbortSignal, watcher: SignalWatcher): void {
  let set = watchers.get(signal);
  if (set === undefined) {
    set = new Set();
    watchers.set(signal, set);
    signal.addEventListener('abort', onAbort, { once: true });
  }
  set.add(watcher);
}

/** Stops watching; the signal's listener goes with its last watcher. */
export function unwatchSignal(signal: AbortSignal, watcher: SignalWatcher): void {
  const set = watchers.get(signal);
  if (set === undefined || !set.delete(watcher) || set.size > 0) return;
  watchers.delete(signal);
  signal.removeEventListener('abort', onAbort);
}

function onAbort(event: Event): void {
  const signal = event.target as AbortSignal;
  const set = watchers.get(signal);
  if (set === undefined) return;
  // In the order the calls were made. Each leaves the set before it runs, so one that another
  // unwatches meanwhile is skipped (as a removed listener would be), and one that throws does
  // not stop the rest: its error is rethrown on its own, as EventTarget does.
  for (const watcher of set) {
    set.delete(watcher);
    try {
      watcher.abortedBy(signal);
    } catch (error) {
      process.nextTick(() => {
        throw error;
      });
    }
  }
  if (watchers.get(signal) === set) watchers.delete(signal);
}
