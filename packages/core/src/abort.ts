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

/**
 * Calls `onAbort` once when `signal` aborts (at once if it already has) and returns a function
 * that stops listening; `null` listens to nothing. However many operations wait on one signal
 * (dials, reads, serve() calls of an app's shutdown signal), it gets one 'abort' listener: one
 * each would make Node print MaxListenersExceededWarning past 10.
 */
export function onAbort(signal: AbortSignal | null, onAbort: () => void): () => void {
  if (signal === null) return kNothing;
  if (signal.aborted) {
    onAbort();
    return kNothing;
  }
  let set = watchers.get(signal);
  if (set === undefined) {
    set = new Set();
    watchers.set(signal, set);
    signal.addEventListener('abort', abortAll, { once: true });
  }
  // A Set keeps one entry per function: wrap, so one callback passed twice is called twice.
  const entry = () => onAbort();
  set.add(entry);
  return () => {
    const current = watchers.get(signal);
    if (current === undefined || !current.delete(entry) || current.size > 0) return;
    watchers.delete(signal);
    signal.removeEventListener('abort', abortAll);
  };
}

const kNothing = (): void => {};

const watchers = new WeakMap<AbortSignal, Set<() => void>>();

function abortAll(event: Event): void {
  const signal = event.target as AbortSignal;
  const set = watchers.get(signal);
  if (set === undefined) return;
  // In the order they began waiting. Each leaves the set before it runs, so one stopped by
  // another meanwhile is skipped (as a removed listener would be), and one that throws does not
  // stop the rest: its error is rethrown on its own, as EventTarget does.
  for (const entry of set) {
    set.delete(entry);
    try {
      entry();
    } catch (error) {
      process.nextTick(() => {
        throw error;
      });
    }
  }
  if (watchers.get(signal) === set) watchers.delete(signal);
}
