/**
 * Coded errors of `@netpoll/gopool`.
 *
 * Every error this package throws or rejects with carries a stable string `code`
 * (`ERR_NETPOLL_*`) and the cross-package marker `Symbol.for('netpoll.error') === true`,
 * so callers match on `code` or on {@link isNetpollError}, never on the message or on a
 * prototype (which breaks across duplicate installs).
 */

/** The marker every `@netpoll/*` error carries, whatever package or copy created it. */
export const kNetpollErrorMarker: unique symbol = Symbol.for('netpoll.error') as never;

/** The shape shared by every `@netpoll/*` error. */
export interface NetpollErrorLike extends Error {
  readonly code: string;
  readonly [kNetpollErrorMarker]: true;
}

/**
 * Returns true when `value` is an error created by any `@netpoll/*` package
 * (it checks the `Symbol.for('netpoll.error')` marker, not the prototype).
 */
export function isNetpollError(value: unknown): value is NetpollErrorLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[kNetpollErrorMarker] === true &&
    typeof (value as { code?: unknown }).code === 'string'
  );
}

function mark(error: Error, code: string): void {
  Object.defineProperty(error, kNetpollErrorMarker, { value: true });
  Object.defineProperty(error, 'code', { value: code, enumerable: true });
}

/** Base class of the package's non-argument errors. */
export class NetpollError extends Error {
  declare readonly code: string;
  declare readonly [kNetpollErrorMarker]: true;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    mark(this, code);
  }

  override get name(): string {
    return 'NetpollError';
  }
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

/** `ERR_NETPOLL_INVALID_ARG`: an argument or option has the wrong type or shape. */
export class InvalidArgumentError extends TypeError {
  declare readonly code: 'ERR_NETPOLL_INVALID_ARG';
  declare readonly [kNetpollErrorMarker]: true;

  /**
   * @param path the argument's path, such as `options.maxIdle`.
   * @param expected what it must be, such as `a non-negative integer`.
   * @param actual what was received.
   * @param message replaces the message `${path} must be ${expected} (received …)` when the
   *   problem is not the value (an option key that does not exist).
   */
  constructor(path: string, expected: string, actual: unknown, message?: string) {
    super(message ?? `${path} must be ${expected} (received ${describe(actual)})`);
    mark(this, 'ERR_NETPOLL_INVALID_ARG');
  }
}

/** `ERR_NETPOLL_OUT_OF_RANGE`: a numeric argument or option is outside its allowed range. */
export class OutOfRangeError extends RangeError {
  declare readonly code: 'ERR_NETPOLL_OUT_OF_RANGE';
  declare readonly [kNetpollErrorMarker]: true;

  constructor(path: string, expected: string, actual: unknown) {
    super(`${path} must be ${expected} (received ${describe(actual)})`);
    mark(this, 'ERR_NETPOLL_OUT_OF_RANGE');
  }
}

/**
 * Codes this package no longer uses. Codes are permanent: a retired code keeps its row in the
 * README's Errors table, marked "retired; do not reuse", and never gets a new meaning.
 * `ERR_NETPOLL_ABORTED`: aborts reject with {@link AbortError} (`ABORT_ERR`) instead.
 */
export const kRetiredErrorCodes: readonly string[] = Object.freeze(['ERR_NETPOLL_ABORTED']);

/**
 * An abort, in the shape of Node's own `AbortError` (what `events.once` and
 * `timers/promises` reject with): `name` `'AbortError'`, `code` `'ABORT_ERR'`, `cause` the
 * signal's reason when there is one. It also carries the netpoll marker, so
 * `isNetpollError()` is true for it.
 */
export class AbortError extends Error {
  declare readonly code: 'ABORT_ERR';
  declare readonly [kNetpollErrorMarker]: true;

  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    mark(this, 'ABORT_ERR');
    // An own property, as Node sets it, so that it shows when the error is logged or copied.
    this.name = 'AbortError';
  }
}

/** `ERR_NETPOLL_CLOSED`: the pool was closed or destroyed. */
export function closedError(message = 'The pool is closed'): NetpollError {
  return new NetpollError('ERR_NETPOLL_CLOSED', message);
}

/** `ERR_NETPOLL_GOPOOL_QUEUE_FULL`: the bounded queue (`maxQueue`) has no room left. */
export function queueFullError(maxQueue: number): NetpollError {
  return new NetpollError(
    'ERR_NETPOLL_GOPOOL_QUEUE_FULL',
    `The task queue is full (maxQueue ${maxQueue})`,
  );
}

/** `ERR_NETPOLL_GOPOOL_DUPLICATE_POOL`: `registerPool` got a name that is already taken. */
export function duplicatePoolError(name: string): NetpollError {
  return new NetpollError(
    'ERR_NETPOLL_GOPOOL_DUPLICATE_POOL',
    `A pool named '${name}' is already registered`,
  );
}

/** `ERR_NETPOLL_GOPOOL_WORKER_CRASHED`: the worker threw an uncaught error while the task was in it. */
export function workerCrashedError(threadId: number, cause: unknown): NetpollError {
  return new NetpollError(
    'ERR_NETPOLL_GOPOOL_WORKER_CRASHED',
    `Worker thread ${threadId} crashed while running the task`,
    { cause },
  );
}

/** `ERR_NETPOLL_GOPOOL_WORKER_EXITED`: the worker exited (or was terminated) with the task in it. */
export function workerExitedError(
  threadId: number,
  exitCode: number,
  cause?: unknown,
): NetpollError & { exitCode: number } {
  const error = new NetpollError(
    'ERR_NETPOLL_GOPOOL_WORKER_EXITED',
    `Worker thread ${threadId} exited with code ${exitCode} while running the task`,
    cause === undefined ? undefined : { cause },
  ) as NetpollError & { exitCode: number };
  error.exitCode = exitCode;
  return error;
}

/** `ERR_NETPOLL_GOPOOL_TASK_TIMEOUT`: the task did not settle within its timeout; `timeout: true`. */
export function taskTimeoutError(timeout: number): NetpollError & { timeout: true } {
  const error = new NetpollError(
    'ERR_NETPOLL_GOPOOL_TASK_TIMEOUT',
    `The task did not finish within ${timeout} ms`,
  ) as NetpollError & { timeout: true };
  error.timeout = true;
  return error;
}

/** `ERR_NETPOLL_GOPOOL_MODULE_LOAD`: the task module failed to load or lacks the export. */
export function moduleLoadError(message: string, cause?: unknown): NetpollError {
  return new NetpollError(
    'ERR_NETPOLL_GOPOOL_MODULE_LOAD',
    message,
    cause === undefined ? undefined : { cause },
  );
}

/** `ERR_NETPOLL_GOPOOL_DATA_CLONE`: a task argument or result cannot cross to another thread. */
export function dataCloneError(what: string, cause: unknown): NetpollError {
  return new NetpollError('ERR_NETPOLL_GOPOOL_DATA_CLONE', `${what} cannot be cloned`, { cause });
}
