/**
 * What a handler's outcome becomes on the wire, whatever the handler returned or threw: a value
 * that refuses `String()`, a thenable whose `then` cannot be read, an `RpcStatus` changed after
 * it was made. Nothing here throws.
 */
import { RpcStatus } from '../errors';
import { kShortAscii } from '../protocol/frame';

interface Thenable {
  then(onFulfilled: (value: unknown) => unknown, onRejected: (error: unknown) => unknown): unknown;
}

/** True for a promise or any object with a `then` method. Throws when `then` cannot be read. */
export function isThenable(value: unknown): value is Thenable {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as Thenable).then === 'function'
  );
}

/** The ERROR a failed call is answered with. */
export interface ErrorReply {
  code: string;
  message: string;
  /** REFUSED: the handler (or interceptor) says it did nothing. */
  refused: boolean;
}

/**
 * The reply to `error`. An `RpcStatus` gives its own status and message; anything else is
 * INTERNAL, whose message says what was thrown only with `exposeErrors`. `prefix`: the handler
 * succeeded and its response could not be encoded (it ran, so never REFUSED; the encoder's
 * message, which may quote the value, only with `exposeErrors`).
 */
export function errorReply(error: unknown, exposeErrors: boolean, prefix?: string): ErrorReply {
  if (isStatus(error)) {
    const { status, message } = error;
    if (typeof status !== 'string' || !kShortAscii.test(status) || typeof message !== 'string') {
      // An RpcStatus changed after it was made (or one never constructed): not on the wire.
      return {
        code: 'INTERNAL',
        message: 'a handler threw an RpcStatus without a valid status',
        refused: false,
      };
    }
    return { code: status, message, refused: error.refused === true && prefix === undefined };
  }
  let message = 'internal error';
  if (prefix !== undefined) message = exposeErrors ? `${prefix}: ${errorText(error)}` : prefix;
  else if (exposeErrors) message = errorText(error);
  return { code: 'INTERNAL', message, refused: false };
}

/** `instanceof RpcStatus`, false for a value whose prototype cannot be read (a revoked proxy). */
function isStatus(error: unknown): error is RpcStatus {
  try {
    return error instanceof RpcStatus;
  } catch {
    return false;
  }
}

/** What an error says, for a reply with exposeErrors (a value may refuse `String`). */
function errorText(error: unknown): string {
  try {
    return error instanceof Error ? String(error.message) : String(error);
  } catch {
    return 'a value that cannot be shown as text';
  }
}
