/**
 * Error codes and classes of `@netpoll/mcache`.
 *
 * Every error this package throws carries a stable string `code` and the cross-package marker
 * `Symbol.for('netpoll.error')`, so `isNetpollError()` recognises it across packages and duplicate
 * installs without sharing a base class.
 */

/** The marker every netpoll error carries, shared by all `@netpoll/*` packages. */
const kNetpollError = Symbol.for('netpoll.error');

/**
 * Every code this package throws. Codes are permanent: a removed code is retired, never reused.
 * The README's Errors table lists exactly these codes (checked by `test/errors.test.ts`).
 */
export const kMcacheErrorCodes = Object.freeze([
  'ERR_NETPOLL_INVALID_ARG',
  'ERR_NETPOLL_OUT_OF_RANGE',
  'ERR_NETPOLL_MCACHE_FOREIGN_BUFFER',
  'ERR_NETPOLL_MCACHE_DOUBLE_FREE',
  'ERR_NETPOLL_MCACHE_ALLOCATION_FAILED',
] as const);

/** The string-literal union of every code `@netpoll/mcache` throws. */
export type McacheErrorCode = (typeof kMcacheErrorCodes)[number];

/** The shape shared by every error this package throws. */
export interface NetpollError extends Error {
  /** The stable identity of the error; match on this, never on the message. */
  readonly code: string;
}

/**
 * Tells whether `value` is an error thrown by any `@netpoll/*` package (or any copy of one).
 *
 * It checks the `Symbol.for('netpoll.error')` marker, not the prototype, so it works across
 * packages and duplicate installs. It never throws.
 */
export function isNetpollError(value: unknown): value is NetpollError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { [kNetpollError]?: unknown })[kNetpollError] === true &&
    typeof (value as { code?: unknown }).code === 'string'
  );
}

/** Marks `error` as a netpoll error with `code`; shared by every class below. */
function mark(error: Error, name: string, code: McacheErrorCode): void {
  Object.defineProperty(error, 'name', { value: name, configurable: true, writable: true });
  Object.defineProperty(error, 'code', { value: code, enumerable: true });
  Object.defineProperty(error, kNetpollError, { value: true });
}

/**
 * Describes a received value for an argument-error message: `-1`, `"abc"`, `an array`,
 * `an instance of Map`. Every @netpoll package formats received values the same way.
 */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'string':
      return JSON.stringify(value.length > 32 ? `${value.slice(0, 32)}…` : value);
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'boolean':
      return String(value);
    case 'symbol':
      return value.toString();
    case 'function':
      return 'a function';
    default: {
      if (Array.isArray(value)) return 'an array';
      const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
      return typeof name === 'string' && name !== '' && name !== 'Object'
        ? `an instance of ${name}`
        : 'an object';
    }
  }
}

/**
 * An argument or option has the wrong type or shape. Code `ERR_NETPOLL_INVALID_ARG`.
 * The message is `${path} must be ${expected} (received ${describe(actual)})`.
 */
export class InvalidArgumentError extends TypeError {
  declare readonly code: 'ERR_NETPOLL_INVALID_ARG';

  constructor(path: string, expected: string, actual: unknown) {
    super(`${path} must be ${expected} (received ${describe(actual)})`);
    mark(this, 'InvalidArgumentError', 'ERR_NETPOLL_INVALID_ARG');
  }
}

/**
 * A numeric argument or option is outside its allowed range. Code `ERR_NETPOLL_OUT_OF_RANGE`.
 * The message is `${path} must be ${expected} (received ${describe(actual)})`.
 */
export class OutOfRangeError extends RangeError {
  declare readonly code: 'ERR_NETPOLL_OUT_OF_RANGE';

  constructor(path: string, expected: string, actual: unknown) {
    super(`${path} must be ${expected} (received ${describe(actual)})`);
    mark(this, 'OutOfRangeError', 'ERR_NETPOLL_OUT_OF_RANGE');
  }
}

/**
 * `free()` or `capacityOf()` received a Buffer whose memory this cache did not hand out, or a view
 * that does not start where an allocation starts. Code `ERR_NETPOLL_MCACHE_FOREIGN_BUFFER`.
 */
export class ForeignBufferError extends Error {
  declare readonly code: 'ERR_NETPOLL_MCACHE_FOREIGN_BUFFER';

  constructor(detail: string) {
    super(`buffer was not allocated by this BufferCache: ${detail}`);
    mark(this, 'ForeignBufferError', 'ERR_NETPOLL_MCACHE_FOREIGN_BUFFER');
  }
}

/**
 * `free()` received a Buffer whose allocation is no longer live: it was freed already, or (debug
 * mode) it is a stale handle whose memory has since been handed to someone else.
 * Code `ERR_NETPOLL_MCACHE_DOUBLE_FREE`.
 */
export class DoubleFreeError extends Error {
  declare readonly code: 'ERR_NETPOLL_MCACHE_DOUBLE_FREE';

  constructor(detail: string) {
    super(`buffer is not a live allocation: ${detail}`);
    mark(this, 'DoubleFreeError', 'ERR_NETPOLL_MCACHE_DOUBLE_FREE');
  }
}

/**
 * The JavaScript engine could not allocate the memory for a new slab or an unpooled buffer
 * (the process is out of memory, or the size exceeds what the engine supports). The engine's
 * error is the `cause`. Code `ERR_NETPOLL_MCACHE_ALLOCATION_FAILED`.
 */
export class AllocationFailedError extends RangeError {
  declare readonly code: 'ERR_NETPOLL_MCACHE_ALLOCATION_FAILED';

  constructor(byteLength: number, cause: unknown) {
    super(`could not allocate ${byteLength} bytes`, { cause });
    mark(this, 'AllocationFailedError', 'ERR_NETPOLL_MCACHE_ALLOCATION_FAILED');
  }
}

/** The error `malloc` throws when called with more than two arguments (gopkg panics there). */
export function tooManyMallocArguments(count: number): InvalidArgumentError {
  return new InvalidArgumentError('malloc arguments', 'at most 2 (size, capacity)', count);
}

/**
 * `ERR_NETPOLL_INVALID_ARG` for an option key no option has (an `InvalidArgumentError`):
 * `options.maxPoolSize is not a known option (did you mean maxPooledSize?)`, without the
 * parenthesis when `suggestion` is `null`.
 */
export function unknownOptionError(path: string, suggestion: string | null): InvalidArgumentError {
  const error = new InvalidArgumentError(path, 'a known option', undefined);
  error.message =
    suggestion === null
      ? `${path} is not a known option`
      : `${path} is not a known option (did you mean ${suggestion}?)`;
  // The stack's first line was formatted with the constructor's message: take it again.
  Error.captureStackTrace(error, unknownOptionError);
  return error;
}
