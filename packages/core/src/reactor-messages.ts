/**
 * The messages between an EventLoop's {@link ReactorGroup} (main thread) and its reactor workers
 * (`./reactor-worker`), and how errors cross the thread boundary: structured clone keeps only an
 * Error's name, message and stack, so errors travel as plain records and are rebuilt with their
 * `code` (and `errno`/`syscall` for system errors) on the other side.
 */
import { kCoreErrorCodes, NetpollError } from './errors';
import type { ResolvedConnectionOptions } from './options';
import type { ReactorStats } from './reactor-stats';
import { systemError } from './system-error';

/** Marks the `workerData` of a reactor worker, so importing its module elsewhere is inert. */
export const kReactorWorkerMarker = 'netpoll.core.reactor-worker';

/** A listener the main thread serves, as each worker needs it to accept from it. */
export interface ListenerSpec {
  /** Identifies the listener in later `detach` messages. */
  readonly id: number;
  readonly network: 'tcp' | 'unix';
  /** The bound address (`"127.0.0.1:40123"` or the Unix path). */
  readonly address: string;
  /** The main thread's listening fd (workers adopt a duplicate of it). */
  readonly fd: number;
  /** Its `listen()` backlog, for the sockets reactors 1 … N−1 bind with `SO_REUSEPORT`. */
  readonly backlog: number;
  /**
   * True: reactor 0 adopts `fd`, the others bind their own `SO_REUSEPORT` socket to `address`
   * (TCP on Linux). False: every reactor adopts `fd` and they share one accept queue.
   */
  readonly reusePort: boolean;
}

/** `workerData` of a reactor worker. */
export interface ReactorWorkerSetup {
  /** This reactor's index, 0 … reactors − 1; its slot in `counts`. */
  readonly index: number;
  readonly reactors: number;
  /** Absolute path of the handler module. */
  readonly handler: string;
  /** The loop's `handlerData`, for the module's optional `init()`. */
  readonly handlerData: unknown;
  readonly options: ResolvedConnectionOptions;
  /** One Int32 per reactor: its open connections (written by the worker, summed by main). */
  readonly counts: SharedArrayBuffer;
}

/** An error as a structured-clone-safe record. */
export interface WireError {
  readonly code: string | undefined;
  readonly message: string;
  readonly stack: string | undefined;
  readonly errno: number | undefined;
  readonly syscall: string | undefined;
  readonly address: string | undefined;
  readonly cause: { readonly message: string; readonly stack: string | undefined } | undefined;
}

/** Main thread → worker. */
export type ToReactorWorker =
  | { readonly type: 'attach'; readonly listener: ListenerSpec }
  | { readonly type: 'detach'; readonly id: number }
  | { readonly type: 'stop-accepting'; readonly timeout: number }
  | { readonly type: 'shutdown'; readonly timeout: number }
  | { readonly type: 'cut-short' }
  | { readonly type: 'stats'; readonly id: number }
  | { readonly type: 'report'; readonly error: WireError };

/** Worker → main thread. */
export type FromReactorWorker =
  | { readonly type: 'ready'; readonly threadId: number }
  | { readonly type: 'failed'; readonly error: WireError }
  | { readonly type: 'attached'; readonly id: number }
  | { readonly type: 'attach-failed'; readonly id: number; readonly error: WireError }
  | { readonly type: 'stats'; readonly id: number; readonly stats: ReactorStats }
  | { readonly type: 'stopped-accepting' }
  /** `complete`: the reactor's loop shutdown finished without its timeout or a cut-short. */
  | { readonly type: 'drained'; readonly complete: boolean };

function field<T>(value: unknown, key: string, type: 'string' | 'number'): T | undefined {
  const inner = (value as Record<string, unknown>)[key];
  return typeof inner === type ? (inner as T) : undefined;
}

/** Error-shaped, also across realms (an Error from a vm context fails `instanceof Error`). */
function isErrorLike(value: unknown): value is Error {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

/** Flattens any thrown value into a {@link WireError}. */
export function toWire(value: unknown): WireError {
  const error = isErrorLike(value) ? value : new Error(String(value));
  const cause = error.cause;
  return {
    code: field<string>(error, 'code', 'string'),
    message: error.message,
    stack: error.stack,
    errno: field<number>(error, 'errno', 'number'),
    syscall: field<string>(error, 'syscall', 'string'),
    address: field<string>(error, 'address', 'string'),
    cause:
      cause === undefined
        ? undefined
        : isErrorLike(cause)
          ? { message: cause.message, stack: cause.stack }
          : { message: String(cause), stack: undefined },
  };
}

/** Rebuilds an error from a {@link WireError}: same code, message, stack, errno and cause. */
export function fromWire(wire: WireError): Error {
  let error: Error;
  if (wire.errno !== undefined && wire.syscall !== undefined) {
    error = systemError(wire.errno, wire.syscall, wire.address);
  } else {
    const cause = wire.cause === undefined ? undefined : new Error(wire.cause.message);
    if (cause !== undefined && wire.cause?.stack !== undefined) cause.stack = wire.cause.stack;
    const options = cause === undefined ? undefined : { cause };
    const code = wire.code as (typeof kCoreErrorCodes)[number] | undefined;
    if (code !== undefined && kCoreErrorCodes.includes(code)) {
      error = new NetpollError(code, wire.message, options);
    } else {
      // Not one of ours (a user error with its own code): keep the code, add no netpoll marker.
      error = new Error(wire.message, options);
      if (wire.code !== undefined) Object.defineProperty(error, 'code', { value: wire.code });
    }
  }
  if (wire.stack !== undefined) error.stack = wire.stack;
  return error;
}
