/**
 * Error codes and classes of `@netpoll/rpc`.
 *
 * Every value this package throws or rejects with is an `Error` with a stable string `code` and
 * the cross-package marker `Symbol.for('netpoll.error')`, so callers match on `code` (or
 * `isNetpollError`), never on messages. A failed call rejects with an {@link RpcError}; its
 * `remoteCode`/`remoteMessage` carry what the server answered, and `processed` says whether the
 * server may have run the handler.
 */

import { kShortAscii } from './protocol/frame';

/** The marker every `@netpoll/*` error carries, whatever package or copy created it. */
export const kNetpollErrorMarker: unique symbol = Symbol.for('netpoll.error') as never;

/** Every code this package can throw. The README's Errors table lists exactly these. */
export const kRpcErrorCodes = Object.freeze([
  'ERR_NETPOLL_INVALID_ARG',
  'ERR_NETPOLL_OUT_OF_RANGE',
  'ERR_NETPOLL_RPC_TIMEOUT',
  'ERR_NETPOLL_RPC_CANCELED',
  'ERR_NETPOLL_RPC_REMOTE',
  'ERR_NETPOLL_RPC_UNAVAILABLE',
  'ERR_NETPOLL_RPC_POOL_EXHAUSTED',
  'ERR_NETPOLL_RPC_FRAME_TOO_LARGE',
  'ERR_NETPOLL_RPC_PROTOCOL',
  'ERR_NETPOLL_RPC_SERIALIZATION',
  'ERR_NETPOLL_RPC_CLOSED',
  'ERR_NETPOLL_HANDLER_LOAD',
] as const);

/** A code from {@link kRpcErrorCodes}. */
export type RpcErrorCode = (typeof kRpcErrorCodes)[number];

/** Attaches the marker and the code (non-writable), as every netpoll package does. */
function mark(error: Error, code: string): void {
  Object.defineProperty(error, kNetpollErrorMarker, { value: true });
  Object.defineProperty(error, 'code', { value: code, enumerable: true, writable: false });
}

/** True for an error created by any `@netpoll/*` package (checks the marker, not the class). */
export function isNetpollError(value: unknown): value is Error & { readonly code: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[kNetpollErrorMarker] === true &&
    typeof (value as { code?: unknown }).code === 'string'
  );
}

/**
 * Describes a received value for an argument-error message: `-1`, `"abc"`, `an array`,
 * `an object`, `an instance of Map`, as every @netpoll package does.
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
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
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

  /** `message` replaces the standard `path must be expected (received …)` text when given. */
  constructor(path: string, expected: string, actual: unknown, message?: string) {
    super(message ?? `${path} must be ${expected} (received ${describe(actual)})`);
    mark(this, 'ERR_NETPOLL_INVALID_ARG');
  }
}

/** `ERR_NETPOLL_OUT_OF_RANGE`: a number outside its range. */
export class OutOfRangeError extends RangeError {
  declare readonly code: 'ERR_NETPOLL_OUT_OF_RANGE';

  constructor(path: string, expected: string, actual: unknown) {
    super(`${path} must be ${expected} (received ${describe(actual)})`);
    mark(this, 'ERR_NETPOLL_OUT_OF_RANGE');
  }
}

/** What an {@link RpcError} may carry besides its code and message. */
export interface RpcErrorDetails {
  /** The server's code (`ERR_NETPOLL_RPC_REMOTE`): `UNIMPLEMENTED`, `INTERNAL`, an app code… */
  remoteCode?: string;
  /** The server's message (`ERR_NETPOLL_RPC_REMOTE`). */
  remoteMessage?: string;
  /**
   * Whether the server may have run the handler: false when the request provably never reached
   * it (never written, refused, sent after a goaway), so retrying cannot run it twice.
   */
  processed?: boolean;
  cause?: unknown;
}

/** A failed call, or a client or server that cannot do what was asked. */
export class RpcError extends Error {
  declare readonly code: RpcErrorCode;
  /** See {@link RpcErrorDetails.remoteCode}; `undefined` unless the server answered an error. */
  readonly remoteCode: string | undefined;
  /** See {@link RpcErrorDetails.remoteMessage}. */
  readonly remoteMessage: string | undefined;
  /** See {@link RpcErrorDetails.processed}. */
  readonly processed: boolean;

  constructor(code: RpcErrorCode, message: string, details: RpcErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    mark(this, code);
    this.remoteCode = details.remoteCode;
    this.remoteMessage = details.remoteMessage;
    this.processed = details.processed ?? true;
  }

  override get name(): string {
    // An aborted call looks like Node's aborts to code that checks `name`.
    return this.code === 'ERR_NETPOLL_RPC_CANCELED' ? 'AbortError' : 'RpcError';
  }
}

/**
 * What a handler throws to answer an error of its own: `code` (1–255 ASCII characters, such as
 * `NOT_FOUND`) and `message` reach the client as they are, as an `ERR_NETPOLL_RPC_REMOTE` with
 * `remoteCode`/`remoteMessage`. Any other error a handler throws is answered `INTERNAL`, with a
 * generic message unless the server exposes errors.
 */
export class RpcStatus extends Error {
  readonly status: string;
  /**
   * The handler (or interceptor) refused the request before doing any of its work — a failed
   * check, a denied authentication: the error goes out `REFUSED`, and the client reports it
   * `processed: false`. Say so only when nothing was done: a refused `UNAVAILABLE` may be sent
   * again to another server.
   */
  readonly refused: boolean;

  constructor(status: string, message = '', options?: { refused?: boolean }) {
    super(message);
    if (!kShortAscii.test(status)) {
      throw new InvalidArgumentError('status', '1 to 255 printable ASCII characters', status);
    }
    const refused = options?.refused ?? false;
    if (typeof refused !== 'boolean') {
      throw new InvalidArgumentError('options.refused', 'a boolean', refused);
    }
    this.status = status;
    this.refused = refused;
  }

  override get name(): string {
    return 'RpcStatus';
  }
}

/**
 * `ERR_NETPOLL_RPC_TIMEOUT`: the call's deadline passed before the reply came (`cause`: the
 * server's DEADLINE_EXCEEDED, when that came first).
 */
export function timeoutError(
  method: string,
  timeout: number,
  processed: boolean,
  cause?: RpcError,
): RpcError {
  return new RpcError('ERR_NETPOLL_RPC_TIMEOUT', `call ${method} timed out after ${timeout} ms`, {
    processed,
    cause,
  });
}

/** `ERR_NETPOLL_RPC_CANCELED`: the call's signal aborted (`cause` is its reason). */
export function canceledError(method: string, reason: unknown, processed: boolean): RpcError {
  return new RpcError('ERR_NETPOLL_RPC_CANCELED', `call ${method} was canceled`, {
    cause: reason,
    processed,
  });
}

/**
 * `ERR_NETPOLL_RPC_REMOTE`: the server answered an error. `processed`: whether the server may
 * have run the handler — false only when it marked the error REFUSED (refused before any handler
 * ran) and no earlier attempt of the call may have run; never inferred from the code, which a
 * handler may answer too.
 */
export function remoteError(
  method: string,
  code: string,
  message: string,
  processed: boolean,
): RpcError {
  return new RpcError(
    'ERR_NETPOLL_RPC_REMOTE',
    `call ${method} failed on the server: ${code}${message === '' ? '' : `: ${message}`}`,
    {
      remoteCode: code,
      remoteMessage: message,
      processed,
    },
  );
}

/** `ERR_NETPOLL_RPC_UNAVAILABLE`: no endpoint could take the call, or its connection failed. */
export function unavailableError(why: string, processed: boolean, cause?: unknown): RpcError {
  return new RpcError('ERR_NETPOLL_RPC_UNAVAILABLE', why, { processed, cause });
}

/** `ERR_NETPOLL_RPC_CLOSED`: the client or server was closed. */
export function closedError(what: string): RpcError {
  return new RpcError('ERR_NETPOLL_RPC_CLOSED', `the ${what} is closed`, { processed: false });
}

/**
 * `ERR_NETPOLL_HANDLER_LOAD`: a reactor thread could not load the service module. Core's error of
 * that code names the module it loaded, which is this package's reactor handler: this one names
 * the user's module and keeps core's error as its `cause`.
 */
export function serviceLoadError(module: string, error: Error): RpcError {
  // The reactor handler's init() throws Errors only; core keeps what it threw as the cause.
  const reason = error.cause instanceof Error ? error.cause.message : error.message;
  return new RpcError(
    'ERR_NETPOLL_HANDLER_LOAD',
    `service module ${module} could not be loaded in a reactor thread: ${reason}`,
    { cause: error, processed: false },
  );
}

/** `ERR_NETPOLL_RPC_FRAME_TOO_LARGE`: a message would exceed `maxFrameSize`. */
export function frameTooLargeError(size: number, maxFrameSize: number): RpcError {
  return new RpcError(
    'ERR_NETPOLL_RPC_FRAME_TOO_LARGE',
    `a message of ${size} bytes exceeds maxFrameSize (${maxFrameSize})`,
    { processed: false },
  );
}

/** `ERR_NETPOLL_RPC_PROTOCOL`: the peer sent something the wire format does not allow. */
export function protocolError(why: string): RpcError {
  return new RpcError('ERR_NETPOLL_RPC_PROTOCOL', `protocol error: ${why}`);
}

/** `ERR_NETPOLL_RPC_SERIALIZATION`: a serializer failed to encode or decode a value. */
export function serializationError(what: string, cause: unknown, processed = false): RpcError {
  return new RpcError('ERR_NETPOLL_RPC_SERIALIZATION', `could not ${what}`, { cause, processed });
}
