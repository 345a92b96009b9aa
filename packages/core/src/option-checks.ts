/**
 * The checks behind every `resolve*Options` function (house style B.6): plain-object input,
 * integers in a range, optional callbacks. Argument errors name the option path.
 */
import { InvalidArgumentError, OutOfRangeError } from './errors';

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

/** An integer in [min, max]; `undefined` gives `fallback`. */
export function integerOption(
  value: unknown,
  path: string,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new InvalidArgumentError(path, 'an integer', value);
  }
  if (value < min || value > max) {
    throw new OutOfRangeError(path, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

/** A function or nothing: `undefined`/`null` give `null`. */
export function callbackOption<T>(value: unknown, path: string): T | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'function') throw new InvalidArgumentError(path, 'a function', value);
  return value as T;
}
