/**
 * `AbortSignal` support in Node's convention: a `signal` option is checked once, and an abort
 * rejects with an `AbortError` — `name: 'AbortError'`, `code: 'ABORT_ERR'`, `cause` = the
 * signal's reason — like Node's own APIs (`events.once`, `timers/promises`), still carrying the
 * netpoll marker so `isNetpollError()` holds.
 */
import { InvalidArgumentError, markNetpollError } from './errors';

/** What an aborted operation rejects with. */
export class AbortError extends Error {
  declare readonly code: 'ABORT_ERR';

  constructor(reason: unknown) {
    super('The operation was aborted', { cause: reason });
    this.name = 'AbortError';
    markNetpollError(this, 'ABORT_ERR');
  }
}

/** An `AbortSignal`, or `null` for `undefined`; anything else throws `ERR_NETPOLL_INVALID_ARG`. */
export function signalOption(value: unknown, path: string): AbortSignal | null {
  if (value === undefined) return null;
  if (!(value instanceof AbortSignal))
    throw new InvalidArgumentError(path, 'an AbortSignal', value);
  return value;
}

/** What watches an `AbortSignal` through {@link watchSignal}: an object can be its own watcher. */
export interface SignalWatcher {
  abortedBy(signal: AbortSignal): void;
}

/**
 * `watcher.abortedBy(signal)` runs when `signal` aborts, until {@link unwatchSignal}. However many
 * operations watch one signal (dials, reads, an app's shutdown signal, RPC calls of one request's
 * fan-out), it gets one 'abort' listener: one each would make Node print
 * MaxListenersExceededWarning past 10. Watchers run in the order they began watching; one
 * unwatched meanwhile is skipped, and one that throws does not stop the rest (its error is
 * rethrown on its own, as EventTarget does). The caller checks `signal.aborted` first.
 */
export function watchSignal(signal: AbortSignal, watcher: SignalWatcher): void {
  let set = watchers.get(signal);
  if (set === undefined) {
    set = new Set();
    watchers.set(signal, set);
    signal.addEventListener('abort', abortAll, { once: true });
  }
  set.add(watcher);
}

/** Stops watching; the signal's listener goes with its last watcher. */
export function unwatchSignal(signal: AbortSignal, watcher: SignalWatcher): void {
  const set = watchers.get(signal);
  if (set === undefined || !set.delete(watcher) || set.size > 0) return;
  watchers.delete(signal);
  signal.removeEventListener('abort', abortAll);
}

/**
 * Calls `onAbort` once when `signal` aborts (at once if it already has) and returns a function
 * that stops listening; `null` listens to nothing. Built on {@link watchSignal}.
 */
export function onAbort(signal: AbortSignal | null, onAbort: () => void): () => void {
  if (signal === null) return kNothing;
  if (signal.aborted) {
    onAbort();
    return kNothing;
  }
  // A watcher per call, so one callback passed twice is called twice.
  const watcher: SignalWatcher = { abortedBy: () => onAbort() };
  watchSignal(signal, watcher);
  return () => unwatchSignal(signal, watcher);
}

const kNothing = (): void => {};

const watchers = new WeakMap<AbortSignal, Set<SignalWatcher>>();

function abortAll(event: Event): void {
  const signal = event.target as AbortSignal;
  const set = watchers.get(signal);
  if (set === undefined) return;
  // Each leaves the set before it runs, so one stopped by another meanwhile is skipped (as a
  // removed listener would be).
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
