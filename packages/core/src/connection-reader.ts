/**
 * `connection.reader`: a LinkBuffer whose nodes are regions of the reactor's inbound slabs (no
 * copy on the read path), plus `waitFor(n)`, the Node form of netpoll's blocking reads.
 */
import { LinkBuffer, type LinkBufferOptions } from '@netpoll/linkbuffer';
import { AbortError, onAbort, signalOption } from './abort';
import { InvalidArgumentError, NetpollError } from './errors';
import { checkKnownKeys, optionsObject } from './option-checks';
import { monotonicNow } from './timer-wheel';

/** What the reader needs from its connection to wait. */
export interface ReadWaitHost {
  /** The read timeout in ms (0 = none). */
  readTimeout(): number;
  /** The error a new wait should fail with right now, or null when waiting is possible. */
  waitBlocker(): Error | null;
  /** Asks for `expireWait()` to be called at or after `deadline` (monotonic ms). */
  armTimer(deadline: number): void;
  /** The error of an expired wait (`ERR_NETPOLL_READ_TIMEOUT` with the remote address). */
  timeoutError(): Error;
  /** `release()` left nothing to read (a peer that closed may now close the connection). */
  inputConsumed(): void;
  /** A read wait began or input was released: the connection re-checks its input limit. */
  inputWanted(): void;
}

const kResolved: Promise<void> = Promise.resolve();
const kWaitKeys = ['signal'];

/** Options of `reader.waitFor(n, options)`. */
export interface WaitOptions {
  /**
   * Aborting it ends the wait: the promise rejects with an `AbortError` (`code: 'ABORT_ERR'`,
   * `cause` = the reason); the connection and the buffered bytes stay.
   */
  signal?: AbortSignal;
}

/**
 * The input side of a connection. Every LinkBuffer reader method works synchronously on buffered
 * bytes; `waitFor(n)` waits until `n` bytes are buffered.
 *
 * Lifetime: views returned by `next`/`peek`/… alias slab memory and are valid until `release()`;
 * inside `onRequest` the connection releases automatically when the handler returns (or its
 * promise settles), so keep data beyond that with `readBinary`/`readString` (copies) or `slice`.
 */
export class ConnectionReader extends LinkBuffer {
  readonly #host: ReadWaitHost;
  #waitSize = 0;
  #resolve: (() => void) | null = null;
  #reject: ((error: Error) => void) | null = null;
  #deadline = 0;

  /** @internal Created by the connection. */
  constructor(host: ReadWaitHost, options?: LinkBufferOptions) {
    super(options);
    this.#host = host;
  }

  /**
   * Resolves once at least `n` bytes are buffered (immediately when they already are). Honours
   * the connection's read timeout. Rejects with `ERR_NETPOLL_READ_TIMEOUT` (the connection stays
   * open and the bytes stay buffered), `ERR_NETPOLL_EOF` (the peer closed with fewer than `n`
   * bytes buffered), the peer's reset (`ECONNRESET`: the stream was cut short),
   * `ERR_NETPOLL_CONN_CLOSED` (closed locally), `ERR_NETPOLL_FRAME_TOO_LARGE`, or
   * `ERR_NETPOLL_CONCURRENT_ACCESS` when another `waitFor` is pending (one waiter per connection,
   * as in netpoll), or an `AbortError` when `options.signal` aborts. `n <= 0` resolves at once; an
   * `n` that is not a safe integer rejects with `ERR_NETPOLL_INVALID_ARG` (it could never be
   * satisfied).
   */
  waitFor(n: number, options?: WaitOptions): Promise<void> {
    if (options !== undefined) return this.#waitWithOptions(n, options);
    if (n <= this.len() && Number.isSafeInteger(n)) return kResolved;
    if (!Number.isSafeInteger(n)) {
      return Promise.reject(new InvalidArgumentError('n', 'a safe integer', n));
    }
    if (this.#resolve !== null) {
      return Promise.reject(
        new NetpollError(
          'ERR_NETPOLL_CONCURRENT_ACCESS',
          'concurrent connection access when wait read',
        ),
      );
    }
    const blocker = this.#host.waitBlocker();
    if (blocker !== null) return Promise.reject(blocker);
    return new Promise<void>((resolve, reject) => {
      this.#waitSize = n;
      this.#resolve = resolve;
      this.#reject = reject;
      this.#host.inputWanted();
      const timeout = this.#host.readTimeout();
      if (timeout > 0) {
        this.#deadline = monotonicNow() + timeout;
        this.#host.armTimer(this.#deadline);
      }
    });
  }

  #waitWithOptions(n: number, options: WaitOptions): Promise<void> {
    let signal: AbortSignal | null;
    try {
      const object = optionsObject(options, 'options');
      checkKnownKeys(object, kWaitKeys, 'options');
      signal = signalOption(object.signal, 'options.signal');
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal?.aborted) return Promise.reject(new AbortError(signal.reason));
    const wait = this.waitFor(n);
    if (signal === null || !this.waiting) return wait;
    const reject = this.#reject;
    const stop = onAbort(signal, () => {
      if (this.#reject === reject) this.failWait(new AbortError(signal.reason));
    });
    return wait.finally(stop);
  }

  /**
   * LinkBuffer's `release()`; when nothing is left to read it also drops the last slab region
   * (`trim()`), so a reader that has consumed everything pins no inbound slab — a dialed
   * connection waiting for its next reply, say. Views end here either way.
   */
  override release(): void {
    if (this.len() === 0) {
      this.trim();
      this.#host.inputConsumed();
    } else {
      super.release();
      this.#host.inputWanted();
    }
  }

  /** @internal Bytes the pending wait needs (0: none). */
  get waitSize(): number {
    return this.#waitSize;
  }

  /** @internal The pending wait's deadline (monotonic ms), or 0. */
  get waitDeadline(): number {
    return this.#deadline;
  }

  /** @internal New bytes arrived: resolves the pending wait when enough are buffered. */
  wake(): void {
    if (this.#resolve === null || this.len() < this.#waitSize) return;
    const resolve = this.#resolve;
    this.#clear();
    resolve();
  }

  /** @internal True while a `waitFor` is pending. */
  get waiting(): boolean {
    return this.#reject !== null;
  }

  /** @internal Rejects the pending wait, if any. */
  failWait(error: Error): void {
    const reject = this.#reject;
    if (reject === null) return;
    this.#clear();
    reject(error);
  }

  /** @internal Timer: rejects the pending wait when its deadline has passed. */
  expireWait(now: number): void {
    if (this.#deadline !== 0 && now >= this.#deadline) this.failWait(this.#host.timeoutError());
  }

  #clear(): void {
    this.#resolve = null;
    this.#reject = null;
    this.#waitSize = 0;
    this.#deadline = 0;
  }
}
