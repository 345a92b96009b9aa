/**
 * `connection.reader`: a LinkBuffer whose nodes are regions of the reactor's inbound slabs (no
 * copy on the read path), plus `waitFor(n)`, the Node form of netpoll's blocking reads.
 */
import { LinkBuffer, type LinkBufferOptions } from '@netpoll/linkbuffer';
import { NetpollError } from './errors';

/** What the reader needs from its connection to wait. */
export interface ReadWaitHost {
  /** Starts a wait; the host resolves or rejects it (timeouts, EOF, close). */
  startWait(n: number, resolve: () => void, reject: (error: Error) => void): void;
  /** The error a wait should fail with right now, or null when waiting is possible. */
  waitBlocker(n: number): Error | null;
  /** True while a wait is pending. */
  isWaiting(): boolean;
}

const kResolved: Promise<void> = Promise.resolve();

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

  /** @internal Created by the connection. */
  constructor(host: ReadWaitHost, options?: LinkBufferOptions) {
    super(options);
    this.#host = host;
  }

  /**
   * Resolves once at least `n` bytes are buffered (immediately when they already are). Honours
   * the connection's read timeout. Rejects with `ERR_NETPOLL_READ_TIMEOUT` (the connection stays
   * open and the bytes stay buffered), `ERR_NETPOLL_EOF` (the peer closed with fewer than `n`
   * bytes buffered), `ERR_NETPOLL_CONN_CLOSED` (closed locally), `ERR_NETPOLL_FRAME_TOO_LARGE`, or
   * `ERR_NETPOLL_CONCURRENT_ACCESS` when another `waitFor` is pending (one waiter per connection,
   * as in netpoll). `n <= 0` resolves at once.
   */
  waitFor(n: number): Promise<void> {
    if (n <= this.len()) return kResolved;
    const host = this.#host;
    if (host.isWaiting()) {
      return Promise.reject(
        new NetpollError(
          'ERR_NETPOLL_CONCURRENT_ACCESS',
          'concurrent connection access when wait read',
        ),
      );
    }
    const blocker = host.waitBlocker(n);
    if (blocker !== null) return Promise.reject(blocker);
    return new Promise<void>((resolve, reject) => host.startWait(n, resolve, reject));
  }
}
