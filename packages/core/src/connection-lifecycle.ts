/**
 * How a connection ends: the state machine behind `Connection`'s close, its peer's close, graceful
 * shutdown and finalization (netpoll §3.2, §3.5).
 *
 * States: `active` until either side closes; then, once no handler runs and (for a peer's close
 * or a shutdown) no hold is left, `finalized`: close callbacks ran, newest first, and the fd was
 * handed back to the reactor, which closes it at once or lingers until the peer has what it is
 * owed (`ConnectionOptions.lingerTimeout`). A hard close (shutdown deadline, write timeout) does
 * not linger: native resets the peer.
 */
import type { Connection } from './connection';
import type { CloseCallback, ConnectionOwner } from './connection-owner';
import type { ConnectionSocket } from './connection-socket';
import type { ConnectionTimeouts } from './connection-timeouts';
import { connectionCloseChannel } from './diagnostics';
import { connectionClosedError, eofError, readerClosedError } from './errors';
import type { OutputQueue } from './output-queue';
import type { Reactor } from './reactor';
import { asError, type RequestRunner } from './request-runner';
import { systemError } from './system-error';

/** `submitClose`'s linger for a hard close: at once, with a reset (work on it was cut). */
const kCloseAbort = -1;

/** The parts of a connection its lifecycle drives, created by the connection. */
export interface LifecycleParts {
  readonly reactor: Reactor;
  readonly owner: ConnectionOwner | null;
  readonly requests: RequestRunner;
  readonly socket: ConnectionSocket;
  readonly timeouts: ConnectionTimeouts;
  readonly output: OutputQueue;
  readonly lingerTimeout: number;
  /** A dialed connection stays open after its peer's EOF, until `close()`. */
  readonly allowHalfOpen: boolean;
}

export class ConnectionLifecycle {
  /** False as soon as either side has closed (or failed). */
  active = true;
  /** Closed locally (`close()`, a failure): no handler may start. */
  userClosed = false;
  /** The peer closed or reset. */
  peerClosed = false;
  /** Closed locally, or the peer reset: no more writes. */
  writeClosed = false;
  /** Close callbacks ran and the fd was handed back. */
  finalized = false;
  /** The error that closed the connection, if any. */
  closeError: Error | null = null;
  #hardClose = false; // no lingering close
  #draining = false; // graceful shutdown began
  #inputEnded = false; // graceful shutdown: everything that arrived before it was read
  #closeCallbacks: CloseCallback[] = [];
  readonly #connection: Connection;
  readonly #parts: LifecycleParts;

  constructor(connection: Connection, parts: LifecycleParts) {
    this.#connection = connection;
    this.#parts = parts;
  }

  /** Registers a close callback, unless the callbacks have run. */
  addCloseCallback(callback: CloseCallback): void {
    if (!this.finalized) this.#closeCallbacks.push(callback);
  }

  /** `Connection.close()`: idempotent; finalizes once no handler runs. */
  close(): void {
    if (this.userClosed) return;
    this.userClosed = true;
    this.active = false;
    this.writeClosed = true;
    const reader = this.#connection.reader;
    // Errors capture a stack: build one only when a wait is pending to receive it.
    if (reader.waiting) reader.failWait(connectionClosedError('wait read'));
    if (!this.#parts.requests.processing) this.#finalize();
  }

  /** Closes now, without lingering, even if a handler is running (shutdown deadline). */
  destroy(): void {
    this.#hardClose = true;
    this.close();
    this.#finalize();
  }

  /** Closes because of `error` and reports it to the owner. */
  fail(error: Error): void {
    this.closeError ??= error;
    this.#connection.reader.failWait(error);
    this.report(error);
    this.close();
    // close() returns early when user code closed first (close(), then a throw): finish here.
    if (!this.#parts.requests.processing) this.#finalize();
  }

  /** Fails with `error` and closes without lingering (a peer that reads nothing). */
  failHard(error: Error): void {
    this.#hardClose = true;
    this.fail(error);
  }

  /** The error a new read wait fails with now (a reset, a local close, the peer's EOF), or null. */
  waitBlocker(): Error | null {
    if (this.closeError !== null && !this.peerClosed) return this.closeError;
    if (this.userClosed) return connectionClosedError('wait read');
    if (this.peerClosed) return this.closeError ?? eofError();
    return null;
  }

  /** The peer closed (errno 0) or failed. */
  peerHangup(errno: number): void {
    if (this.peerClosed) return;
    this.peerClosed = true;
    this.active = false;
    if (errno < 0) {
      this.closeError ??= systemError(errno, 'read');
      this.writeClosed = true;
    }
    const connection = this.#connection;
    // A reset is not an end of stream: a wait for bytes that will never come says which it was.
    if (connection.reader.waiting) connection.reader.failWait(this.closeError ?? eofError());
    // onDisconnect is for a peer that closed first (netpoll's closing CAS): not after close().
    if (this.#parts.requests.connected && !this.userClosed) {
      this.#parts.owner?.peerClosed(connection);
    }
    this.emitSafely('end');
    this.afterProcessing();
  }

  /**
   * Graceful shutdown: from now on only input that had arrived in the kernel is read; once it
   * is, no handler runs and no hold is left, the connection closes (lingering).
   */
  drain(): void {
    if (this.#draining || this.finalized) return;
    this.#draining = true;
    if (this.userClosed || this.peerClosed) {
      this.#inputEnded = true;
    } else {
      const { reactor } = this.#parts;
      reactor.countCall();
      if (reactor.binding.endInput(this.#connection.fd) <= 0) this.inputEnd();
    }
    if (!this.#parts.requests.processing) this.afterProcessing();
  }

  /** Graceful shutdown: the input that had arrived before it has been read. */
  inputEnd(): void {
    if (this.#inputEnded) return;
    this.#inputEnded = true;
    this.emitSafely('shutdown');
    if (!this.#parts.requests.processing) this.afterProcessing();
  }

  /** Processing stopped (or the state changed while idle): run the close follow-ups. */
  afterProcessing(): void {
    const requests = this.#parts.requests;
    if (requests.processing || this.finalized) return;
    if (!this.userClosed && this.#connection.reader.closed) {
      this.fail(readerClosedError()); // a handler closed the reader: report it now, not at new data
    } else if (this.userClosed) {
      this.#finalize();
    } else if (requests.holds > 0) {
      // Work in flight will still write: a peer's EOF or a shutdown waits for it.
    } else if (this.peerClosed && this.#closesOnPeerEnd()) {
      this.userClosed = true;
      this.writeClosed = true;
      this.#finalize();
    } else if (this.#draining && this.#inputEnded) {
      // Everything that arrived before the shutdown was handled; what is still buffered is a
      // request the handler could not complete (it made no progress on it).
      this.close();
    }
  }

  /** Hands an error to the owner's onError, or to a dialed connection's 'error' listeners. */
  report(error: Error): void {
    const connection = this.#connection;
    const owner = this.#parts.owner;
    if (owner !== null) owner.reportError(error, connection);
    else if (connection.listenerCount('error') > 0) connection.emit('error', error);
  }

  /**
   * Emits a lifecycle event; a listener that throws is reported like a failing handler, so it
   * cannot stop the connection's own state changes (or `close()`, which never throws).
   */
  emitSafely(event: 'end' | 'close' | 'drain' | 'shutdown', value?: unknown): void {
    const connection = this.#connection;
    try {
      connection.emit(event, value);
    } catch (error) {
      const failure = asError(error, `'${event}' listener`);
      if (this.#parts.owner === null && connection.listenerCount('error') === 0) {
        process.emitWarning(failure);
      } else this.report(failure);
    }
  }

  /**
   * Server connections clean up once the peer closed (netpoll §3.5), after `onConnect`; dialed
   * ones too (Go netpoll closes them on hang-up), once their buffered input is consumed, unless
   * `allowHalfOpen` keeps them for `close()`.
   */
  #closesOnPeerEnd(): boolean {
    if (this.#parts.owner !== null) return this.#parts.requests.connected;
    return !this.#parts.allowHalfOpen && this.#connection.reader.len() === 0;
  }

  #finalize(): void {
    if (this.finalized) return;
    const { reactor, owner, output, socket, timeouts, lingerTimeout } = this.#parts;
    const connection = this.#connection;
    // The addresses live in the kernel socket: keep them before the fd is handed back.
    socket.release();
    timeouts.stop();
    this.finalized = true;
    this.active = false;
    const callbacks = this.#closeCallbacks;
    this.#closeCallbacks = [];
    for (let i = callbacks.length - 1; i >= 0; i--) {
      try {
        callbacks[i]!(connection);
      } catch (error) {
        owner?.reportError(asError(error, 'close callback'), connection);
      }
    }
    const fd = connection.fd;
    reactor.detachStream(fd, connection);
    // Work was cut when the close is hard (a shutdown deadline, a write timeout: native resets
    // the peer), or closes at once (lingerTimeout 0) while native still holds output.
    const cut =
      this.#hardClose || (lingerTimeout === 0 && output.unsent > 0 && reactor.blocked(fd));
    output.detach();
    reactor.submitClose(
      fd,
      this.#hardClose ? kCloseAbort : lingerTimeout,
      () => output.dispose(),
      owner === null ? undefined : (lingerCut) => owner.released(connection, cut || lingerCut),
    );
    connection.reader.close();
    owner?.finalized(connection);
    if (connectionCloseChannel.hasSubscribers) {
      connectionCloseChannel.publish({ connection, error: this.closeError });
    }
    this.emitSafely('close', this.closeError);
  }
}
