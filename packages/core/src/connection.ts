/**
 * A TCP or Unix stream connection: netpoll's `Connection` for Node (cloudwego/netpoll,
 * `connection_impl.go` / `connection_onevent.go`, Apache-2.0; re-designed, no code copied).
 *
 * State (netpoll §3.2): `active` until either side closes; `processing` while an `onRequest`
 * (or `onConnect`) runs — at most one per connection (`./request-runner`); `held` while user code
 * holds work in flight (`hold()`); `finalized` once close callbacks ran and the fd was handed back
 * to the reactor (`./connection-lifecycle`, which drives the closing states). The output side
 * (writable, drain, write timeout) lives in `./output-queue`. The reactor calls the `on*` methods
 * from its dispatcher.
 */
import type { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { type InspectOptions, inspect } from 'node:util';
import { LinkBuffer } from '@netpoll/linkbuffer';
import { ConnectionLifecycle } from './connection-lifecycle';
import type { CloseCallback, ConnectionOwner } from './connection-owner';
import { ConnectionReader, type ReadWaitHost } from './connection-reader';
import { ConnectionSocket, kPauseUser } from './connection-socket';
import { ConnectionTimeouts } from './connection-timeouts';
import { ConnectionWriter, type WriteHost } from './connection-writer';
import {
  connectionClosedError,
  frameTooLargeError,
  InvalidArgumentError,
  readerClosedError,
  readTimeoutError,
  writeTimeoutError,
} from './errors';
import type { OnRequest } from './event-loop-options';
import { timeoutOption, timeoutSetting } from './option-checks';
import type { ResolvedConnectionOptions, ResolvedDialOptions } from './options';
import { type OutputHost, OutputQueue } from './output-queue';
import type { Reactor, ReactorStream } from './reactor';
import { type RequestHost, RequestRunner } from './request-runner';

/** Bytes of a writer node unless a single write needs more (see the constructor). */
const kWriterNodeSize = 1024;

const kReleased = (): void => {};

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
  /** @internal Its place in its event loop's list of open, then closing, connections. */
  slot = -1;

  readonly #reactor: Reactor;
  readonly #owner: ConnectionOwner | null;
  readonly #output: OutputQueue;
  readonly #requests: RequestRunner;
  readonly #life: ConnectionLifecycle;
  readonly #maxFrameSize: number;
  readonly #socket: ConnectionSocket;
  readonly #timeouts: ConnectionTimeouts;
  #readTime = 0;

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
    // node of its own size (larger writes always get a node of their size); once everything is
    // sent, the next replies that fit reuse it from its start (LinkBuffer `release()`), and a
    // larger one frees it. Measured at 1000 connections: 7 outbound slabs instead of 22.
    const output = new LinkBuffer({ allocator: reactor.outbound, nodeSize: kWriterNodeSize });
    this.writer = new ConnectionWriter(this, output);
    this.#output = new OutputQueue(reactor, output, fd, this, options, this.reader.options.debug);
    this.#timeouts = new ConnectionTimeouts(
      reactor.timers,
      this.reader,
      this.#output,
      options.readTimeout,
    );
    this.#requests = new RequestRunner(this);
    this.#socket = new ConnectionSocket(
      reactor,
      fd,
      network === 'tcp',
      this,
      options.readHighWaterMark,
      owner !== null,
    );
    this.#life = new ConnectionLifecycle(this, {
      reactor,
      owner,
      requests: this.#requests,
      socket: this.#socket,
      timeouts: this.#timeouts,
      output: this.#output,
      lingerTimeout: options.lingerTimeout,
      allowHalfOpen: (options as Partial<ResolvedDialOptions>).allowHalfOpen === true,
    });
    reactor.attachStream(fd, this);
    if (options.idleTimeout > 0) this.setIdleTimeout(options.idleTimeout);
  }

  // ---- netpoll Connection API -----------------------------------------------------------------

  /** False as soon as either side has closed (or failed). Cheap: no syscall. */
  isActive(): boolean {
    return this.#life.active;
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
    this.#life.addCloseCallback(callback);
  }

  /**
   * Marks work in flight whose result this connection will write later — a `WorkerPool` task, a
   * timer, a database callback — without holding up its next `onRequest` (a returned promise
   * would serialize the connection). Graceful shutdown (`eventLoop.shutdown`) waits, up to its
   * timeout, until every hold is released before closing the connection; a server connection
   * whose peer closed its side (`'end'`) stays open for writing until then too. Returns the
   * release function (calling it again does nothing). On a closed connection it holds nothing.
   */
  hold(): () => void {
    return this.#life.finalized ? kReleased : this.#requests.hold();
  }

  /**
   * `hold()` for the lifetime of `work`: released when it settles. Returns a promise of the same
   * outcome.
   */
  track<T>(work: PromiseLike<T>): Promise<T> {
    const release = this.hold();
    return Promise.resolve(work).finally(release);
  }

  /** Holds taken with `hold()`/`track()` and not yet released. */
  get holds(): number {
    return this.#requests.holds;
  }

  /**
   * Closes the connection. Idempotent; never throws. A pending `waitFor` rejects with
   * `ERR_NETPOLL_CONN_CLOSED`; close callbacks run after a running `onRequest` returns. Flushed
   * output is not lost: when the peer is still owed bytes the socket lingers (see
   * `ConnectionOptions.lingerTimeout`) after the connection is finalized.
   */
  close(): void {
    this.#life.close();
  }

  /**
   * `await using connection = await dialConnection(…)`: closes the connection (lingering as
   * `close()` does) and resolves once it is finalized — after a running `onRequest` returned.
   */
  [Symbol.asyncDispose](): Promise<void> {
    if (this.#life.finalized) return Promise.resolve();
    const closed = new Promise<void>((resolve) => this.once('close', () => resolve()));
    this.close();
    return closed;
  }

  /** What `util.inspect` (and `console.log`) shows: the connection's state, not its internals. */
  [inspect.custom](depth: number, options: InspectOptions): string {
    const state = {
      fd: this.fd,
      network: this.network,
      localAddress: this.localAddress,
      remoteAddress: this.remoteAddress,
      active: this.#life.active,
      closed: this.#life.finalized,
      bufferedBytes: this.reader.closed ? 0 : this.reader.len(),
      pendingBytes: this.#life.finalized ? 0 : this.pendingBytes,
      holds: this.#requests.holds,
      readPaused: this.readPaused,
    };
    if (depth < 0) return '[Connection]';
    return `Connection ${inspect(state, { ...options, depth: 0 })}`;
  }

  /** Stops reading from the socket (input stays buffered; the peer sees TCP backpressure). */
  pauseRead(): void {
    if (!this.#life.peerClosed) this.#socket.pause(kPauseUser, true);
  }

  /**
   * Resumes reading after `pauseRead()` — unless the connection holds back reading itself: while
   * `readHighWaterMark` bytes of input wait unconsumed or `highWaterMark` bytes of output wait
   * unsent, it resumes once they drop below.
   */
  resumeRead(): void {
    if (!this.#life.peerClosed) this.#socket.pause(kPauseUser, false);
  }

  /**
   * True while the socket is not read: after `pauseRead()`, or while the connection holds back
   * reading because input waits unconsumed or output unsent above their high-water marks.
   */
  get readPaused(): boolean {
    return this.#socket.paused;
  }

  /**
   * When input last arrived: `performance.now()` (ms) as the batch that read it reached JS, 0
   * before any (one reading per batch: a handler can date what it parses without its own).
   */
  get readTime(): number {
    return this.#readTime;
  }

  /**
   * False while at least `highWaterMark` flushed bytes are unsent; `'drain'` follows once they
   * are written (or, if the kernel took them without pushing back, once native has sent them).
   * Reading it never makes a native call.
   */
  get writable(): boolean {
    return !this.#life.writeClosed && this.#output.writable();
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
    return this.#life.closeError;
  }

  // ---- used by the EventLoop -----------------------------------------------------------------

  /** @internal Runs after `onConnect` returned: requests may start. */
  markConnected(): void {
    this.#requests.markConnected();
    if (this.#life.peerClosed && !this.#life.userClosed) this.#owner?.peerClosed(this);
    this.#requests.schedule();
    this.afterProcessing();
  }

  /** @internal Holds requests until `onConnect` returned. */
  markConnecting(): void {
    this.#requests.markConnecting();
  }

  /**
   * @internal Graceful shutdown of this connection: from now on only input that had arrived in
   * the kernel is read; once it is, no handler runs and no hold is left, the connection closes
   * (lingering, so replies already written reach the peer). Input the handler could not complete
   * (a partial request) is dropped with it.
   */
  drain(): void {
    this.#life.drain();
  }

  /** @internal Closes now, without lingering, even if a handler is running (shutdown deadline). */
  destroy(): void {
    this.#life.destroy();
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
    const userClosed = this.#life.userClosed;
    if (userClosed || this.reader.closed) {
      // Closed locally (a handler may still run), or user code closed the reader: nobody can
      // read these bytes, so they are dropped and the slab region let go at once.
      this.#reactor.inbound.releaseRegion(token);
      if (!userClosed) this.fail(readerClosedError());
      return;
    }
    const reader = this.reader;
    this.#readTime = this.#reactor.batchTime;
    reader.appendRegion(slab, start, end, this.#reactor.inbound, token);
    reader.wake();
    this.#requests.dataArrived(end - start);
    if (this.#socket.inputNeedsCheck(reader.len())) this.inputWanted();
  }

  /** @internal Peer closed (errno 0) or failed. */
  onHangup(errno: number): void {
    this.#life.peerHangup(errno);
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

  /**
   * @internal The reactor's inbound memory is exhausted: buffered input that no view refers to
   * moves into this connection's own memory (LinkBuffer `evacuate`), freeing slab regions.
   */
  evacuateInput(): number {
    return this.#life.finalized || this.reader.closed ? 0 : this.reader.evacuate();
  }

  /**
   * @internal Graceful shutdown: the input that had arrived before it has been read. Emits
   * `'shutdown'`: the handler has seen its last request, so a protocol can tell the peer (an RPC
   * goaway) before the connection closes.
   */
  onInputEnd(): void {
    this.#life.inputEnd();
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
    return this.#life.waitBlocker();
  }

  /**
   * @internal WriteHost: throws `ERR_NETPOLL_CONN_CLOSED` once closed locally or reset by the
   * peer. After the peer's clean EOF writes go on until the connection closes (a reply to a
   * request read before the EOF).
   */
  assertWritable(when: string): void {
    if (this.#life.writeClosed) throw connectionClosedError(when);
  }

  /** @internal ReadWaitHost: user code released the reader with nothing left in it. */
  inputConsumed(): void {
    this.#socket.inputConsumed();
    if (this.#life.peerClosed && !this.#requests.processing) this.afterProcessing();
  }

  /** @internal ReadWaitHost (and new input): re-checks the input limit (`./connection-socket`). */
  inputWanted(): void {
    this.#socket.inputChanged(this.reader.len(), this.reader.waitSize);
  }

  /** @internal OutputHost: unsent output reached the high-water mark. */
  outputFull(): void {
    this.#socket.outputChanged(true);
  }

  /** @internal WriteHost: native met EAGAIN on this socket and holds output for it. */
  outputBlocked(): boolean {
    return this.#reactor.blocked(this.fd);
  }

  /** @internal WriteHost: queues the flushed bytes for native. */
  submitOutput(): void {
    this.#output.submit();
  }

  /** @internal OutputHost: false once no more output can be written. */
  active(): boolean {
    return !this.#life.writeClosed;
  }

  /** @internal OutputHost: unsent output fell below the high-water mark. */
  drained(): void {
    this.#socket.outputChanged(false);
    this.#life.emitSafely('drain');
  }

  /**
   * @internal OutputHost: output stayed blocked past the write timeout. The close does not
   * linger: a peer that read nothing for that long would only keep a copy of the output, and the
   * fd, for another `lingerTimeout`.
   */
  timedOut(): void {
    this.#life.failHard(writeTimeoutError(this.remoteAddress));
  }

  /** @internal RequestHost: true once closed locally (no handler may start). */
  closing(): boolean {
    return this.#life.userClosed;
  }

  /**
   * @internal RequestHost (and the connection's own failures): closes the connection because of
   * `error` and reports it to the owner.
   */
  fail(error: Error): void {
    this.#life.fail(error);
  }

  /** @internal RequestHost: processing stopped: run the close follow-ups. */
  afterProcessing(): void {
    this.#life.afterProcessing();
  }
}
