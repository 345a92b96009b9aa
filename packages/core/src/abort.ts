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
 * that stops listening; `null` listens to nothing.
 */
export function onAbort(signal: AbortSignal | null, onAbort: () => void): () => void {
  if (signal === null) return kNothing;
  if (signal.aborted) {
    onAbort();
    return kNothing;
  }
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

const kNothing = (): void => {};
