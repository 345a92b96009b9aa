/**
 * Error codes and classes of `@netpoll/core`.
 *
 * Every value this package throws or rejects with is an `Error` with a stable string `code` and
 * the cross-package marker `Symbol.for('netpoll.error')`, so `isNetpollError()`
 * recognises it across packages and duplicate installs. Codes never change; messages may.
 * System errors (`ECONNREFUSED`, …) are {@link NetpollSystemError}s from `./system-error`.
 */

const kNetpollErrorMarker = Symbol.for('netpoll.error');

/** Every `ERR_NETPOLL_*` code this package can throw. The README's Errors table lists exactly these. */
export const kCoreErrorCodes = Object.freeze([
  'ERR_NETPOLL_INVALID_ARG',
  'ERR_NETPOLL_OUT_OF_RANGE',
  'ERR_NETPOLL_CLOSED',
  'ERR_NETPOLL_CONN_CLOSED',
  'ERR_NETPOLL_EOF',
  'ERR_NETPOLL_READ_TIMEOUT',
  'ERR_NETPOLL_WRITE_TIMEOUT',
  'ERR_NETPOLL_DIAL_TIMEOUT',
  'ERR_NETPOLL_CONCURRENT_ACCESS',
  'ERR_NETPOLL_FRAME_TOO_LARGE',
  'ERR_NETPOLL_HANDLER_FAILED',
  'ERR_NETPOLL_BINDING_LOAD',
  'ERR_NETPOLL_UNSUPPORTED_PLATFORM',
  'ERR_NETPOLL_HANDLER_LOAD',
  'ERR_NETPOLL_REACTOR_CRASHED',
  'ERR_NETPOLL_REUSE_PORT_REQUIRED',
  // Node's code for an aborted operation (an AbortError), not an ERR_NETPOLL_ one.
  'ABORT_ERR',
] as const);

/** A code from {@link kCoreErrorCodes}. */
export type CoreErrorCode = (typeof kCoreErrorCodes)[number];

/** Attaches the marker and the code (non-writable), as every netpoll package does. */
export function markNetpollError(error: Error, code: string): void {
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

/** Base class of this package's non-argument errors (`code` + netpoll marker). */
export class NetpollError extends Error {
  declare readonly code: CoreErrorCode;

  constructor(code: CoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    markNetpollError(this, code);
  }
}

/** `ERR_NETPOLL_INVALID_ARG` (a TypeError): `${path} must be ${expected} (received …)`. */
export class InvalidArgumentError extends TypeError {
  declare readonly code: 'ERR_NETPOLL_INVALID_ARG';

  constructor(path: string, expected: string, actual: unknown) {
    super(`${path} must be ${expected} (received ${describe(actual)})`);
    this.name = 'InvalidArgumentError';
    markNetpollError(this, 'ERR_NETPOLL_INVALID_ARG');
  }
}

/** `ERR_NETPOLL_OUT_OF_RANGE` (a RangeError): a number of the right type outside its range. */
export class OutOfRangeError extends RangeError {
  declare readonly code: 'ERR_NETPOLL_OUT_OF_RANGE';

  constructor(path: string, expected: string, actual: unknown) {
    super(`${path} must be ${expected} (received ${describe(actual)})`);
    this.name = 'OutOfRangeError';
    markNetpollError(this, 'ERR_NETPOLL_OUT_OF_RANGE');
  }
}

/**
 * A timeout (`ERR_NETPOLL_READ_TIMEOUT`, `ERR_NETPOLL_WRITE_TIMEOUT`, `ERR_NETPOLL_DIAL_TIMEOUT`).
 * `timeout` is always true, like netpoll's `Timeout()`.
 */
export class TimeoutError extends NetpollError {
  readonly timeout = true;
}

/** `ERR_NETPOLL_CLOSED`: the EventLoop, listener or reactor was used after it was closed. */
export function closedError(what: string): NetpollError {
  return new NetpollError('ERR_NETPOLL_CLOSED', `${what} is closed`);
}

/**
 * `ERR_NETPOLL_CLOSED`: user code closed `connection.reader` (its `close()`, or `append()` into
 * another buffer), so input has nowhere to go; the connection is closed with this error.
 */
export function readerClosedError(): NetpollError {
  return new NetpollError(
    'ERR_NETPOLL_CLOSED',
    'connection.reader was closed by user code (close(), or append() into another buffer), so ' +
      'its connection is closed; move input with writer.writeFrom(reader, n) or reader.slice(n)',
  );
}

/** `ERR_NETPOLL_CONN_CLOSED`: netpoll's "connection has been closed" with the operation. */
export function connectionClosedError(when: string): NetpollError {
  return new NetpollError('ERR_NETPOLL_CONN_CLOSED', `connection has been closed ${when}`);
}

/** `ERR_NETPOLL_EOF`: the peer closed and not enough data was buffered ("EOF wait read"). */
export function eofError(): NetpollError {
  return new NetpollError('ERR_NETPOLL_EOF', 'EOF wait read');
}

/** `ERR_NETPOLL_READ_TIMEOUT`: "connection read timeout <remote address>". */
export function readTimeoutError(remoteAddress: string): TimeoutError {
  return new TimeoutError('ERR_NETPOLL_READ_TIMEOUT', `connection read timeout ${remoteAddress}`);
}

/** `ERR_NETPOLL_WRITE_TIMEOUT`: "connection write timeout <remote address>". */
export function writeTimeoutError(remoteAddress: string): TimeoutError {
  return new TimeoutError('ERR_NETPOLL_WRITE_TIMEOUT', `connection write timeout ${remoteAddress}`);
}

/** `ERR_NETPOLL_DIAL_TIMEOUT`: "dial wait timeout" (DNS lookup plus connect). */
export function dialTimeoutError(address: string, timeout: number): TimeoutError {
  return new TimeoutError(
    'ERR_NETPOLL_DIAL_TIMEOUT',
    `dial wait timeout: ${address} after ${timeout} ms (i/o timeout)`,
  );
}

/** `ERR_NETPOLL_FRAME_TOO_LARGE`: a length header announced more than `maxFrameSize`. */
export function frameTooLargeError(length: number, maxFrameSize: number): NetpollError {
  return new NetpollError(
    'ERR_NETPOLL_FRAME_TOO_LARGE',
    `frame of ${length} bytes exceeds maxFrameSize ${maxFrameSize}`,
  );
}

/** `ERR_NETPOLL_HANDLER_FAILED`: wraps a non-Error thrown by a user callback (`cause` = the value). */
export function handlerFailedError(callback: string, cause: unknown): NetpollError {
  return new NetpollError('ERR_NETPOLL_HANDLER_FAILED', `${callback} failed`, { cause });
}

/**
 * `ERR_NETPOLL_HANDLER_LOAD`: a reactor worker could not use the handler module at `handler`
 * (it failed to load, or does not export an `onRequest` function); `cause` holds the load error.
 */
export function handlerLoadError(handler: string, reason: string, cause?: unknown): NetpollError {
  return new NetpollError(
    'ERR_NETPOLL_HANDLER_LOAD',
    `handler module ${handler} ${reason}`,
    cause === undefined ? undefined : { cause },
  );
}

/** `ERR_NETPOLL_REACTOR_CRASHED`: a reactor worker died outside a shutdown; `cause` says why. */
export function reactorCrashedError(
  reactor: number,
  reason: string,
  cause?: unknown,
): NetpollError {
  return new NetpollError(
    'ERR_NETPOLL_REACTOR_CRASHED',
    `reactor ${reactor} crashed: ${reason}`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * `ERR_NETPOLL_REUSE_PORT_REQUIRED`: a TCP listener served by several reactors on Linux was
 * created without `reusePort`, so the other reactors cannot bind the same port.
 */
export function reusePortRequiredError(address: string, reactors: number): NetpollError {
  return new NetpollError(
    'ERR_NETPOLL_REUSE_PORT_REQUIRED',
    `listener ${address} is served by ${reactors} reactors, which each bind it with SO_REUSEPORT: ` +
      "create it with createListener('tcp', address, { reusePort: true })",
  );
}
