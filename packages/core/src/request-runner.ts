/**
 * The processing task of one connection: netpoll's `onProcess` (cloudwego/netpoll,
 * `connection_onevent.go`, Apache-2.0; re-designed, no code copied).
 *
 * Rules: `onRequest` runs serially (at most one call or pending promise per connection), is re-run
 * while input remains, never before `onConnect` returned, and never after a local close. A handler
 * that neither consumed input nor saw new input arrive is not re-run until more data comes
 * (netpoll would spin; one JS thread must not). The reader is released after each call, or when
 * its promise settles.
 *
 * It also counts the work user code holds in flight outside a handler call (`connection.hold()`):
 * a reply produced later by a worker, a timer or a database callback. Graceful shutdown and a
 * peer's EOF wait for those as they wait for a running handler.
 */
import type { Connection } from './connection';
import type { ConnectionReader } from './connection-reader';
import { handlerFailedError } from './errors';
import type { OnRequest } from './event-loop-options';

/**
 * What the runner needs from its connection (the Connection itself implements it: no host object
 * or closures per connection).
 */
export interface RequestHost {
  readonly reader: ConnectionReader;
  /** True once the connection was closed locally: no handler may start any more. */
  closing(): boolean;
  /** A callback threw or rejected (already wrapped as an Error): close and report. */
  fail(error: Error): void;
  /** Processing stopped (loop idle, or `onConnect` returned): run the close/idle follow-ups. */
  afterProcessing(): void;
}

type Thenable = {
  then(onFulfilled: (value: unknown) => void, onRejected: (error: unknown) => void): unknown;
};

function isThenable(value: unknown): value is Thenable {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as Thenable).then === 'function'
  );
}

/** `value` itself when it is an Error, else `ERR_NETPOLL_HANDLER_FAILED` with it as `cause`. */
export function asError(value: unknown, callback: string): Error {
  return value instanceof Error ? value : handlerFailedError(callback, value);
}

export class RequestRunner {
  readonly #host: RequestHost & Connection;
  #handler: OnRequest | null = null;
  #processing = false; // a handler (or onConnect) owns the connection
  #connected = true; // onConnect returned (or there is none)
  #appended = 0; // bytes appended to the reader so far
  #lengthBefore = 0; // reader length when the current call started
  #appendedBefore = 0; // #appended when the current call started
  #holds = 0; // work in flight outside a handler call

  constructor(host: RequestHost & Connection) {
    this.#host = host;
  }

  /** The installed handler, or null. */
  get handler(): OnRequest | null {
    return this.#handler;
  }

  /** True while a handler (or `onConnect`) runs or its promise is pending. */
  get processing(): boolean {
    return this.#processing;
  }

  /** Holds taken and not yet released. */
  get holds(): number {
    return this.#holds;
  }

  /**
   * Counts work in flight until the returned function is called (once; later calls do nothing);
   * when the last hold goes and no handler runs, the host's close follow-ups run.
   */
  hold(): () => void {
    this.#holds++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      if (--this.#holds === 0 && !this.#processing) this.#host.afterProcessing();
    };
  }

  /** False between `markConnecting()` and `markConnected()`. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Installs the handler and starts it when input is buffered. */
  setHandler(handler: OnRequest): void {
    this.#handler = handler;
    this.schedule();
  }

  /** `bytes` were appended to the reader: start the handler if it is not running. */
  dataArrived(bytes: number): void {
    this.#appended += bytes;
    this.schedule();
  }

  /** Holds requests until `markConnected()`. */
  markConnecting(): void {
    this.#connected = false;
    this.#processing = true;
  }

  /** `onConnect` returned: requests may start (call `schedule()` afterwards). */
  markConnected(): void {
    this.#connected = true;
    this.#processing = false;
  }

  /**
   * Runs `onConnect` (after `markConnecting()`); `done` receives its awaited value. A throw or
   * rejection closes the connection through `host.fail`.
   */
  runOnConnect(callback: () => unknown, done: (value: unknown) => void): void {
    const failed = (error: unknown): void => {
      this.#connected = true;
      this.#processing = false;
      this.#host.fail(asError(error, 'onConnect'));
    };
    let result: unknown;
    try {
      result = callback();
    } catch (error) {
      failed(error);
      return;
    }
    if (isThenable(result)) {
      result.then((value) => done(value), failed);
    } else {
      done(result);
    }
  }

  /** Starts the processing loop when a handler exists, input is buffered and nothing runs. */
  schedule(): void {
    if (this.#processing || !this.#connected || this.#handler === null) return;
    if (this.#host.reader.len() === 0 || this.#host.closing()) return;
    this.#processing = true;
    this.#run();
  }

  /** The loop: serial, re-run while input remains, stop on close or when no progress was made. */
  #run(): void {
    const host = this.#host;
    const reader = host.reader;
    for (;;) {
      const handler = this.#handler;
      const length = reader.len();
      if (handler === null || length === 0 || host.closing()) break;
      this.#lengthBefore = length;
      this.#appendedBefore = this.#appended;
      let result: unknown;
      try {
        result = handler(host, host.context);
      } catch (error) {
        this.#processing = false;
        host.fail(asError(error, 'onRequest'));
        return;
      }
      if (isThenable(result)) {
        result.then(this.#settled, this.#rejected);
        return;
      }
      reader.release(); // with everything read, this also drops the last slab region
      if (!this.#madeProgress()) break;
    }
    this.#processing = false;
    host.afterProcessing();
  }

  readonly #settled = (): void => {
    this.#host.reader.release();
    if (!this.#madeProgress()) {
      this.#processing = false;
      this.#host.afterProcessing();
      return;
    }
    this.#run();
  };

  readonly #rejected = (error: unknown): void => {
    this.#processing = false;
    this.#host.fail(asError(error, 'onRequest'));
  };

  #madeProgress(): boolean {
    const arrived = this.#appended - this.#appendedBefore;
    return arrived > 0 || this.#host.reader.len() < this.#lengthBefore;
  }
}
