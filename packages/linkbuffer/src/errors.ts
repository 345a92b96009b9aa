/**
 * Error codes and classes of `@netpoll/linkbuffer`.
 *
 * Every value this package throws is an `Error` with a stable string `code` and the cross-package
 * marker `Symbol.for('netpoll.error')`, so `isNetpollError()` recognises it even when several copies
 * of a netpoll package are installed. Messages may change between versions; codes never do.
 */

/** The cross-package marker every netpoll error carries. */
const kNetpollErrorMarker = Symbol.for('netpoll.error');

/** Every code this package can throw. The README's Errors table lists exactly these. */
export const kLinkBufferErrorCodes = Object.freeze([
  'ERR_NETPOLL_INVALID_ARG',
  'ERR_NETPOLL_OUT_OF_RANGE',
  'ERR_NETPOLL_CLOSED',
  'ERR_NETPOLL_LINKBUFFER_NOT_ENOUGH',
  'ERR_NETPOLL_LINKBUFFER_DELIMITER_NOT_FOUND',
  'ERR_NETPOLL_LINKBUFFER_READ_ONLY',
] as const);

/** A code from {@link kLinkBufferErrorCodes}. */
export type LinkBufferErrorCode = (typeof kLinkBufferErrorCodes)[number];

function mark(error: Error, code: LinkBufferErrorCode): void {
  Object.defineProperty(error, kNetpollErrorMarker, { value: true, enumerable: false });
  Object.defineProperty(error, 'code', { value: code, enumerable: true, writable: false });
}

/**
 * Returns true when `value` is an error thrown by any `@netpoll/*` package (it carries the
 * `Symbol.for('netpoll.error')` marker). Works across duplicate installs; never throws.
 */
export function isNetpollError(value: unknown): value is Error & { readonly code: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[kNetpollErrorMarker] === true
  );
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

/** Base class of the non-argument errors of this package (`code` + netpoll marker). */
export class LinkBufferError extends Error {
  declare readonly code: LinkBufferErrorCode;

  constructor(code: LinkBufferErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    mark(this, code);
  }
}

/**
 * `ERR_NETPOLL_INVALID_ARG`: an argument or option has the wrong type or shape. Message format:
 * `${path} must be ${expected} (received ${describe(actual)})`; given only a message, that message
 * (for the argument errors this format cannot say, such as an unknown option key).
 */
export class InvalidArgumentError extends TypeError {
  declare readonly code: 'ERR_NETPOLL_INVALID_ARG';

  constructor(path: string, expected: string, actual: unknown);
  constructor(message: string);
  constructor(path: string, expected?: string, actual?: unknown) {
    super(
      expected === undefined ? path : `${path} must be ${expected} (received ${describe(actual)})`,
    );
    this.name = 'InvalidArgumentError';
    mark(this, 'ERR_NETPOLL_INVALID_ARG');
  }
}

/** `ERR_NETPOLL_OUT_OF_RANGE`: a number is an integer of the right type but outside its range. */
export class OutOfRangeError extends RangeError {
  declare readonly code: 'ERR_NETPOLL_OUT_OF_RANGE';

  constructor(path: string, expected: string, actual: unknown) {
    super(`${path} must be ${expected} (received ${describe(actual)})`);
    this.name = 'OutOfRangeError';
    mark(this, 'ERR_NETPOLL_OUT_OF_RANGE');
  }
}

/**
 * The error for `value`, which failed a check for an integer within some range: an
 * {@link OutOfRangeError} when it is a safe integer (only the range is wrong), else an
 * {@link InvalidArgumentError} (another type, a BigInt, NaN, ±Infinity, a fraction, or an integer
 * beyond ±(2^53 - 1)). Both messages read `${path} must be ${expected} (received …)`.
 */
export function integerError(
  path: string,
  expected: string,
  value: unknown,
): InvalidArgumentError | OutOfRangeError {
  return Number.isSafeInteger(value)
    ? new OutOfRangeError(path, expected, value)
    : new InvalidArgumentError(path, expected, value);
}

/**
 * `ERR_NETPOLL_LINKBUFFER_NOT_ENOUGH`: a read asked for more bytes than are readable. Nothing was
 * consumed. `requested` and `available` are byte counts at the time of the call.
 */
export class NotEnoughDataError extends LinkBufferError {
  readonly requested: number;
  readonly available: number;

  constructor(method: string, requested: number, available: number) {
    super(
      'ERR_NETPOLL_LINKBUFFER_NOT_ENOUGH',
      `linkBuffer.${method} needs ${requested} bytes but only ${available} are readable`,
    );
    this.requested = requested;
    this.available = available;
  }
}

/** `ERR_NETPOLL_LINKBUFFER_DELIMITER_NOT_FOUND`: `until(delimiter)` found no delimiter; nothing consumed. */
export class DelimiterNotFoundError extends LinkBufferError {
  readonly delimiter: number;

  constructor(delimiter: number, scanned: number) {
    super(
      'ERR_NETPOLL_LINKBUFFER_DELIMITER_NOT_FOUND',
      `linkBuffer.until(${delimiter}) found no delimiter in ${scanned} readable bytes`,
    );
    this.delimiter = delimiter;
  }
}

/** `ERR_NETPOLL_LINKBUFFER_READ_ONLY`: a writer method was called on a reader made by `slice()`. */
export class ReadOnlyError extends LinkBufferError {
  constructor(method: string) {
    super(
      'ERR_NETPOLL_LINKBUFFER_READ_ONLY',
      `linkBuffer.${method} is not allowed: buffers returned by slice() are read-only`,
    );
  }
}

/** `ERR_NETPOLL_CLOSED`: the buffer was closed (or emptied into another by `append()`). */
export class ClosedError extends LinkBufferError {
  constructor(method: string) {
    super(
      'ERR_NETPOLL_CLOSED',
      `linkBuffer.${method} was called after close() (or after the buffer was appended elsewhere)`,
    );
  }
}
