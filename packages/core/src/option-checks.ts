/**
 * The checks behind every `resolve*Options` function: plain-object input, known
 * keys, integers in a range, timeouts, optional callbacks. Argument errors name the option path.
 */
import { InvalidArgumentError, OutOfRangeError } from './errors';

/** The largest timeout in ms (Node's own timer limit, 2^31 − 1). */
export const kMaxTimeout = 2 ** 31 - 1;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Checks that `input` is undefined or a plain object and returns it as a record. */
export function optionsObject(input: unknown, path: string): Record<string, unknown> {
  if (input === undefined) return {};
  if (!isPlainObject(input)) throw new InvalidArgumentError(path, 'a plain object', input);
  return input;
}

/** Edit distance (insertions, deletions, substitutions) between `a` and `b`. */
function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The known key closest to `key`: equal ignoring case, else the smallest edit distance within
 * max(2, ⌊key.length / 3⌋); the first in `known` order on a tie. `null` when none is that close.
 */
function closestKey(key: string, known: readonly string[]): string | null {
  const lower = key.toLowerCase();
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const candidate of known) {
    const distance = candidate.toLowerCase() === lower ? 0 : levenshtein(key, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * Refuses keys of `input` that are not in `known` (a typo would otherwise silently fall back to
 * the default): `ERR_NETPOLL_INVALID_ARG` with the message
 * `options.readTimout is not a known option (did you mean readTimeout?)`, without the parenthesis
 * when no known key is close.
 */
export function checkKnownKeys(input: object, known: readonly string[], path: string): void {
  for (const key of Object.keys(input)) {
    if (known.includes(key)) continue;
    const suggestion = closestKey(key, known);
    const error = new InvalidArgumentError(`${path}.${key}`, 'a known option', undefined);
    error.message =
      suggestion === null
        ? `${path}.${key} is not a known option`
        : `${path}.${key} is not a known option (did you mean ${suggestion}?)`;
    // The stack's first line was formatted with the constructor's message: take it again.
    Error.captureStackTrace(error, checkKnownKeys);
    throw error;
  }
}

/** An integer in [min, max]; anything else throws `ERR_NETPOLL_INVALID_ARG`/`_OUT_OF_RANGE`. */
export function checkInteger(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new InvalidArgumentError(path, 'an integer', value);
  }
  if (value < min || value > max) {
    throw new OutOfRangeError(path, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

/** An integer in [min, max]; `undefined` gives `fallback`. */
export function integerOption(
  value: unknown,
  path: string,
  min: number,
  max: number,
  fallback: number,
): number {
  return value === undefined ? fallback : checkInteger(value, path, min, max);
}

/**
 * A timeout in ms, as every timeout option and setter takes it: an integer from 0 to
 * {@link kMaxTimeout}. `undefined` gives `fallback` (options); pass no fallback for a setter's
 * argument, which is required.
 */
export function timeoutOption(value: unknown, path: string, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  return checkInteger(value, path, 0, kMaxTimeout);
}

/**
 * The argument of `setReadTimeout`/`setWriteTimeout`: a timeout as {@link timeoutOption}, or a
 * negative integer, which leaves the setting unchanged (netpoll's rule) and gives `null`.
 */
export function timeoutSetting(value: unknown, path: string): number | null {
  if (Number.isInteger(value) && (value as number) < 0) return null;
  return timeoutOption(value, path);
}

/** A function or nothing: `undefined`/`null` give `null`. */
export function callbackOption<T>(value: unknown, path: string): T | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'function') throw new InvalidArgumentError(path, 'a function', value);
  return value as T;
}
