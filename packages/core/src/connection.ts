/**
 * A TCP or Unix stream connection: netpoll's `Connection` for Node (cloudwego/netpoll,
 * `connection_impl.go` / `connection_onevent.go`, Apache-2.0; re-designed, no code copied).
 *
 * State (netpoll §3.2): `active` until either side closes; `processing` while an `onRequest`
 * (or `onConnect`) runs — at most one per connection (`./request-runner`); `finalized` once close
 * callbacks ran and the fd was handed back to the reactor. The output side (writable, drain, write
 * timeout) lives in `./output-queue`. The reactor calls the `on*` methods from its dispatcher.
 */
import { EventEmitter } from 'node:events';
import { LinkBuffer } from '@netpoll/linkbuffer';
import type { CloseCallback, ConnectionOwner } from './connection-owner';
import { ConnectionReader, type ReadWaitHost } from './connection-reader';
import { ConnectionSocket } from './connection-socket';
import { ConnectionTimeouts } from './connection-timeouts';
import { ConnectionWriter, type WriteHost } from './connection-writer';
import {
  connectionClosedError,
  eofError,
  frameTooLargeError,
  InvalidArgumentError,
  readerClosedError,
  readTimeoutError,
  writeTimeoutError,
} from './errors';
import type { OnRequest } from './event-loop-options';
import { timeoutOption, timeoutSetting } from './option-checks';
import type { ResolvedConnectionOptions } from './options';
import { type OutputHost, OutputQueue } from './output-queue';
import type { Reactor, ReactorStream } from './reactor';
import { asError, type RequestHost, RequestRunner } from './request-runner';
import { systemError } from './system-error';

/** Bytes of a writer node unless a single write needs more (see the constructor). */
const kWriterNodeSize = 1024;

export class Connection
  extends EventEmitter
  implements ReactorStream, ReadWaitHost, WriteHost, OutputHost, RequestHost
{
  /** The socket descriptor (valid until the connection is finalized). */
  readonly fd: number;
  /** `'tcp'` or `'unix'`. */
  readonly network: 'tcp' | 'unix';
  /** Input: a LinkBuffer over slab regions, plus `waitFor(n)`. */
  readonly reader: ConnectionReader;
  /** Output: netpoll's Writer over outbound slabs (write-only); `flush()` queues a writev. */
  readonly writer: ConnectionWriter;
  /** The value from `onPrepare`/`onConnect` (netpoll's ctx); free for the user to set. */
  context: unknown = undefined;

  readonly #reactor: Reactor;
  readonly #owner: ConnectionOwner | null;
  readonly #output: OutputQueue;
  readonly #requests: RequestRunner;
  #active = true;
  #userClosed = false;
  #peerClosed = false;
  #finalized = false;
  readonly #maxFrameSize: number;
  #closeCallbacks: CloseCallback[] = [];
  #closeError: Error | null = null;
  readonly #socket: ConnectionSocket;
  readonly #timeouts: ConnectionTimeouts;

  /** @internal Connections are created by the EventLoop and `dialConnection`. */
  constructor(
    reactor: Reactor,
    fd: number,
    network: 'tcp' | 'unix',
    options: ResolvedConnectionOptions,
    owner: ConnectionOwner | null,
  ) {
    super();
    this.#reactor = reactor;
    this.fd = fd;
    this.network = network;
    this.#owner = owner;
    this.#maxFrameSize = options.framing?.maxFrameSize ?? 0;
    this.reader = new ConnectionReader(this);
    // 1 KiB writer nodes (LinkBuffer's default is 4 KiB): a node lives from its first write until
    // native has sent all of it, which under ping-pong is one round trip per reply it holds, so a
    // large node keeps about 4 KiB per connection in flight. With 1 KiB nodes a 1 KiB reply takes a
    // node of its own size (larger writes always get a node of their size), freed once sent;
    // measured at 1000 connections: 7 outbound slabs instead of 22, at unchanged CPU per request
    // (the allocator hands freed Buffer objects back, so the extra nodes create no garbage).
    const output = new LinkBuffer({ allocator: reactor.outbound, nodeSize: kWriterNodeSize });
    this.writer = new ConnectionWriter(this, output);
    this.#output = new OutputQueue(reactor, output, fd, this, options);
    this.#timeouts = new ConnectionTimeouts(
      reactor.timers,
      this.reader,
      this.#output,
      options.readTimeout,
    );
    this.#requests = new RequestRunner(this);
    this.#socket = new ConnectionSocket(reactor, fd, network === 'tcp');
    reactor.attachStream(fd, this);
    if (options.idleTimeout > 0) this.setIdleTimeout(options.idleTimeout);
  }

  // ---- netpoll Connection API -----------------------------------------------------------------

  /** False as soon as either side has closed (or failed). Cheap: no syscall. */
  isActive(): boolean {
    return this.#active;
  }

  /**
   * Read timeout of `reader.waitFor` in ms, an integer up to 2147483647: 0 = forever, a negative
   * integer = unchanged (netpoll). Anything else throws `ERR_NETPOLL_INVALID_ARG` /
   * `ERR_NETPOLL_OUT_OF_RANGE`, as the `readTimeout` option does.
   */
  setReadTimeout(timeout: number): void {
    const checked = timeoutSetting(timeout, 'timeout');
    if (checked !== null) this.#timeouts.readTimeout = checked;
  }

  /**
   * Write timeout in ms (see `ConnectionOptions.writeTimeout`), an integer up to 2147483647:
   * 0 = none, a negative integer = unchanged. Anything else throws like `setReadTimeout`.
   */
  setWriteTimeout(timeout: number): void {
    const checked = timeoutSetting(timeout, 'timeout');
    if (checked !== null) this.#output.writeTimeout = checked;
  }

  /**
   * TCP keep-alive, as netpoll: idle = interval = ⌊timeout / 1000⌋ s; an integer from 0 to
   * 2147483647 ms, as the `idleTimeout` option (else `ERR_NETPOLL_INVALID_ARG` /
   * `ERR_NETPOLL_OUT_OF_RANGE`). Under 1000 ms, or on a Unix socket, it is a no-op. One JS→native
   * call.
   */
  setIdleTimeout(timeout: number): void {
    this.#socket.setIdleTimeout(timeoutOption(timeout, 'timeout'));
  }

  /** The keep-alive set by `setIdleTimeout`, in ms (0 = off). */
  get idleTimeout(): number {
    return this.#socket.idleTimeout;
  }

  /**
   * Installs the per-connection handler; `null`/`undefined` is ignored (netpoll). If input is
   * already buffered, processing starts at once. Anything else that is not a function throws
   * `ERR_NETPOLL_INVALID_ARG`.
   */
  setOnRequest(handler: OnRequest | null | undefined): void {
    if (handler === null || handler === undefined) return;
    if (typeof handler !== 'function') {
      throw new InvalidArgumentError('handler', 'a function, null or undefined', handler);
    }
    this.#requests.setHandler(handler);
  }

  /** True when an `onRequest` handler is installed. */
  get hasHandler(): boolean {
    return this.#requests.handler !== null;
  }

  /**
   * Registers a close callback (once each, newest first); `null`/`undefined` is ignored (netpoll),
   * and so is a registration after the callbacks have run. Anything else that is not a function
   * throws `ERR_NETPOLL_INVALID_ARG`.
   */
  addCloseCallback(callback: CloseCallback | null | undefined): void {
    if (callback === null || callback === undefined) return;
    if (typeof callback !== 'function') {
      throw new InvalidArgumentError('callback', 'a function, null or undefined', callback);
    }
    if (!this.#finalized) this.#closeCallbacks.push(callback);
  }

  /**
   * Closes the connection. Idempotent; never throws. A pending `waitFor` rejects with
   * `ERR_NETPOLL_CONN_CLOSED`; flushed output is attempted once by native before the fd closes;
   * close callbacks run after a running `onRequest` returns.
   */
  close(): void {
    if (this.#userClosed) return;
    this.#userClosed = true;
    this.#active = false;
    // Errors capture a stack: build one only when a wait is pending to receive it.
    if (this.reader.waiting) this.reader.failWait(connectionClosedError('wait read'));
    if (!this.#requests.processing) this.#finalize();
  }

  /** Stops reading from the socket (input stays buffered; the peer sees TCP backpressure). */
  pauseRead(): void {
    if (!this.#peerClosed) this.#socket.setReading(false);
  }

  /** Resumes reading after `pauseRead()`. */
  resumeRead(): void {
    if (!this.#peerClosed) this.#socket.setReading(true);
  }

  /** True between `pauseRead()` and `resumeRead()`. */
  get readPaused(): boolean {
    return this.#socket.paused;
  }

  /**
   * False while at least `highWaterMark` flushed bytes are unsent; `'drain'` follows once they
   * are written (or, if the kernel took them without pushing back, once native has sent them).
   * Reading it never makes a native call.
   */
  get writable(): boolean {
    return this.#active && this.#output.writable();
  }

  /** Bytes flushed but not yet written by the kernel. */
  get pendingBytes(): number {
    this.#output.reclaim();
    return this.#output.unsent;
  }

  /**
   * Local address: `"ip:port"`, `"[ip6]:port"` or the Unix path. Looked up on first read (one
   * native call) and cached; an address not read while the connection was open is looked up when
   * it closes (before the fd goes), so it stays readable afterwards. `''` only when the kernel no
   * longer knows it (a peer address after a reset, the peer's unnamed Unix socket).
   */
  get localAddress(): string {
    return this.#socket.localAddress();
  }

  /** Remote address, same format as `localAddress`. */
  get remoteAddress(): string {
    return this.#socket.remoteAddress();
  }

  /** The error that closed the connection (peer reset, frame too large, write timeout), if any. */
  get closeError(): Error | null {
    return this.#closeError;
  }

  // ---- used by the EventLoop -----------------------------------------------------------------

  /** @internal Runs after `onConnect` returned: requests may start. */
  markConnected(): void {
    this.#requests.markConnected();
    if (this.#peerClosed && !this.#userClosed) this.#owner?.peerClosed(this);
    this.#requests.schedule();
    this.afterProcessing();
  }

  /** @internal Holds requests until `onConnect` returned. */
  markConnecting(): void {
    this.#requests.markConnecting();
  }

  /**
   * @internal True when no handler runs, no input is buffered and all flushed output has been
   * written: graceful shutdown closes such connections (closing one with output still queued
   * would cut it off if the peer reads slowly).
   */
  get idle(): boolean {
    return !this.#requests.processing && this.reader.len() === 0 && this.pendingBytes === 0;
  }

  /**
   * @internal Graceful shutdown: once every flushed byte is written, `drained()` tells the owner,
   * which closes the connection if it is idle by then.
   */
  awaitOutputSent(): void {
    if (this.pendingBytes > 0) this.#output.watchEmpty();
  }

  /** @internal Closes now even if a handler is running (shutdown timeout). */
  destroy(): void {
    this.close();
    this.#finalize();
  }

  /**
   * @internal Runs `onConnect` (after `markConnecting()`); `done` receives its awaited value. A
   * throw or rejection is reported to the owner and closes the connection.
   */
  runOnConnect(callback: () => unknown, done: (value: unknown) => void): void {
    this.#requests.runOnConnect(callback, done);
  }

  // ---- reactor callbacks -----------------------------------------------------------------------

  /** @internal */
  onData(slab: Buffer, start: number, end: number, token: number): void {
    if (this.#userClosed || this.reader.closed) {
      // Closed locally (a handler may still run), or user code closed the reader: nobody can
      // read these bytes, so they are dropped and the slab region let go at once.
      this.#reactor.inbound.releaseRegion(token);
      if (!this.#userClosed) this.fail(readerClosedError());
      return;
    }
    this.reader.appendRegion(slab, start, end, this.#reactor.inbound, token);
    this.reader.wake();
    this.#requests.dataArrived(end - start);
  }

  /** @internal Peer closed (errno 0) or failed. */
  onHangup(errno: number): void {
    if (this.#peerClosed) return;
    this.#peerClosed = true;
    this.#active = false;
    if (errno < 0) this.#closeError ??= systemError(errno, 'read');
    if (this.reader.waiting) this.reader.failWait(eofError());
    // onDisconnect is for a peer that closed first (netpoll's closing CAS): not after close().
    if (this.#requests.connected && !this.#userClosed) this.#owner?.peerClosed(this);
    this.#emitSafely('end');
    this.afterProcessing();
  }

  /** @internal */
  onDrain(): void {
    this.#output.onDrain();
  }

  /** @internal Dialed connections attach after connecting; never called on a Connection. */
  onConnectResult(_errno: number): void {}

  /** @internal */
  onFrameTooLarge(length: number): void {
    this.fail(frameTooLargeError(length, this.#maxFrameSize));
  }

  // ---- internals -------------------------------------------------------------------------------

  // The hooks of the connection's parts (reader, writer, output queue, request runner): methods
  // here rather than a host object of closures per part, so a connection is one object fewer per
  // part and no closure per hook (this state is touched on every request).

  /** @internal ReadWaitHost: the read timeout in ms (0 = none). */
  readTimeout(): number {
    return this.#timeouts.readTimeout;
  }

  /** @internal ReadWaitHost / OutputHost: a deadline changed; the timer wheel calls back by then. */
  armTimer(): void {
    this.#timeouts.rearm();
  }

  /** @internal ReadWaitHost: the error of an expired wait. */
  timeoutError(): Error {
    return readTimeoutError(this.remoteAddress);
  }

  /** @internal ReadWaitHost: the error a new wait fails with now, or null. */
  waitBlocker(): Error | null {
    if (this.#closeError !== null && !this.#peerClosed) return this.#closeError;
    if (this.#userClosed) return connectionClosedError('wait read');
    if (this.#peerClosed) return eofError();
    return null;
  }

  /** @internal WriteHost: throws `ERR_NETPOLL_CONN_CLOSED` once either side closed. */
  assertWritable(when: string): void {
    if (!this.#active) throw connectionClosedError(when);
  }

  /** @internal WriteHost: queues the flushed bytes for native. */
  submitOutput(): void {
    this.#output.submit();
  }

  /** @internal OutputHost: false once either side closed (`isActive()`). */
  active(): boolean {
    return this.#active;
  }

  /** @internal OutputHost: unsent output fell below the high-water mark. */
  drained(): void {
    this.#emitSafely('drain');
    if (this.#owner !== null && !this.#requests.processing && this.#active) this.#owner.idle(this);
  }

  /** @internal OutputHost: output stayed blocked past the write timeout. */
  timedOut(): void {
    this.fail(writeTimeoutError(this.remoteAddress));
  }

  /** @internal RequestHost: true once closed locally (no handler may start). */
  closing(): boolean {
    return this.#userClosed;
  }

  /**
   * @internal RequestHost (and the connection's own failures): closes the connection because of
   * `error` and reports it to the owner.
   */
  fail(error: Error): void {
    this.#closeError ??= error;
    this.reader.failWait(error);
    this.#report(error);
    this.close();
    // close() returns early when user code closed first (close(), then a throw): finish here.
    if (!this.#requests.processing) this.#finalize();
  }

  /** Hands an error to the owner's onError, or to a dialed connection's 'error' listeners. */
  #report(error: Error): void {
    if (this.#owner !== null) this.#owner.reportError(error, this);
    else if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  /**
   * Emits a lifecycle event; a listener that throws is reported like a failing handler, so it
   * cannot stop the connection's own state changes (or `close()`, which never throws).
   */
  #emitSafely(event: 'end' | 'close' | 'drain', value?: unknown): void {
    try {
      this.emit(event, value);
    } catch (error) {
      const failure = asError(error, `'${event}' listener`);
      if (this.#owner === null && this.listenerCount('error') === 0) process.emitWarning(failure);
      else this.#report(failure);
    }
  }

  /** @internal RequestHost: processing stopped: run the close/idle follow-ups. */
  afterProcessing(): void {
    if (this.#requests.processing || this.#finalized) return;
    if (!this.#userClosed && this.reader.closed) {
      this.fail(readerClosedError()); // a handler closed the reader: report it now, not at new data
    } else if (this.#userClosed) {
      this.#finalize();
    } else if (this.#peerClosed && this.#requests.connected && this.#owner !== null) {
      // Server connections clean up on peer close (netpoll §3.5); dialed ones wait for close().
      this.#userClosed = true;
      this.#finalize();
    } else if (this.#owner !== null) {
      this.#owner.idle(this);
    }
  }

  #finalize(): void {
    if (this.#finalized) return;
    // The addresses live in the kernel socket: keep them before the fd is handed back.
    this.#socket.release();
    this.#timeouts.stop();
    this.#finalized = true;
    this.#active = false;
    const callbacks = this.#closeCallbacks;
    this.#closeCallbacks = [];
    for (let i = callbacks.length - 1; i >= 0; i--) {
      try {
        callbacks[i]!(this);
      } catch (error) {
        this.#owner?.reportError(asError(error, 'close callback'), this);
      }
    }
    const reactor = this.#reactor;
    reactor.detachStream(this.fd, this);
    const output = this.#output;
    output.detach();
    reactor.submitClose(this.fd, () => output.dispose());
    this.reader.close();
    this.#owner?.finalized(this);
    this.#emitSafely('close', this.#closeError);
  }
}
