/**
 * One dialed connection of a client: writes requests with their sequence numbers (all requests
 * of one tick leave with one flush), matches replies to pending calls, answers and sends pings,
 * and handles GOAWAY. When it ends, each pending call is retried or failed by what the server can
 * have done with it: a call never written, or written after the server's last read request
 * (GOAWAY), was not processed and goes elsewhere; any other fails with
 * `ERR_NETPOLL_RPC_UNAVAILABLE` (or is tried once more when the caller marked it idempotent).
 */
import type { Buffer } from 'node:buffer';
import type { Connection, ConnectionReader } from '@netpoll/core';
import { now } from '../clock';
import {
  protocolError,
  type RpcError,
  remoteError,
  timeoutError,
  unavailableError,
} from '../errors';
import { type QueuedFlush, queueFlush } from '../flush-queue';
import type { ResolvedClientOptions } from '../options';
import { ascii, decodeHeader, MessageHeader, peekLength } from '../protocol/decode';
import { writeControl, writeRequest } from '../protocol/encode';
import { Kind, kFixedHeaderSize, kFlagDeadline, kProtocolVersion } from '../protocol/frame';
import { SeqMap } from '../seq-map';
import type { Call } from './call';

/** What a connection reports to its endpoint. */
export interface ConnectionHost {
  /** The connection ended; `error` says why (null after a clean close). */
  connectionClosed(connection: ClientConnection, error: RpcError | null): void;
  /** A call's reply arrived (pool: the connection is free again). */
  callDone(connection: ClientConnection): void;
  /** The server announced its shutdown: no new calls here. */
  connectionDraining(connection: ClientConnection): void;
  /** The first frame, or a pong, came from the server: it is alive, not merely accepting. */
  connectionAlive(connection: ClientConnection): void;
  /** No pong within pingTimeout: the server hangs (called before the connection closes). */
  connectionHung(connection: ClientConnection, error: RpcError): void;
}

const kMaxSeq = 0xffffffff;
/** Bytes 0–1 of a RESPONSE with no flags (no metadata, not CLOSING): the common reply. */
const kPlainResponse = (((kProtocolVersion << 4) | Kind.RESPONSE) << 8) | 0;

export class ClientConnection implements QueuedFlush {
  readonly connection: Connection;
  readonly #host: ConnectionHost;
  readonly #options: ResolvedClientOptions;
  readonly #pending = new SeqMap<Call>();
  readonly #header = new MessageHeader();
  #nextSeq = 1;
  /** The server's GOAWAY: the highest request seq it read (-1: no GOAWAY). */
  #goawaySeq = -1;
  #closed = false;
  #retiring = false; // close once no call is pending
  #dirty = false;
  #flushScheduled = false;
  /** One-way calls written since the last flush: they succeed once native has sent them. */
  #oneWay: Call[] = [];
  /** Monotonic ms of the last frame received (or the connect). */
  lastActivity: number;
  #pingSentAt = 0;
  #pingId = 0;
  /** A frame came from the server (connectionAlive was called). */
  #heard = false;
  /** Pool: monotonic ms (of the pool's last tick) since it sits idle. */
  idleSince = 0;
  /** Pool: carrying a call (not on the idle stack). */
  active = false;

  /** `firstSeq`: @internal where numbering starts (tests reach the end of the seq space). */
  constructor(
    connection: Connection,
    host: ConnectionHost,
    options: ResolvedClientOptions,
    firstSeq = 1,
  ) {
    this.connection = connection;
    this.#host = host;
    this.#options = options;
    this.#nextSeq = firstSeq;
    this.lastActivity = now();
    connection.setOnRequest(this.#onFrames);
    connection.on('close', this.#onClose);
  }

  /** Requests written this tick wait for the flush (a mux endpoint keeps adding to them). */
  get flushPending(): boolean {
    return this.#flushScheduled;
  }

  /** Calls written here and not yet answered. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Takes new calls: open, not retiring (closing when idle, or its seq space used up), no GOAWAY. */
  get usable(): boolean {
    return !this.#closed && !this.#retiring && this.#goawaySeq < 0 && this.connection.isActive();
  }

  /**
   * Writes `call` with the next seq; the flush follows within the tick. `time`: the monotonic ms
   * now, when the caller has it (a clock read per call is a measurable part of its cost).
   */
  send(call: Call, time = now()): void {
    const seq = this.#nextSeq++;
    const options = this.#options;
    writeRequest(
      this.connection.writer,
      options.lengthHeader,
      options.maxFrameSize,
      call.oneWay ? Kind.ONE_WAY : Kind.REQUEST,
      seq,
      call.methodBytes,
      call.timeLeft(time),
      call.metadata,
      call.payload,
      call.payloadSize,
    );
    // The seq space is used up: no new calls here (the endpoint dials a replacement); the
    // connection closes once the calls on it are answered, not kept open unused.
    if (this.#nextSeq >= kMaxSeq) this.#retiring = true;
    call.attempts++;
    call.wrote();
    if (call.oneWay) {
      // Done with this connection once the request is flushed (a pool connection goes back then;
      // closing it before would drop the request).
      this.#oneWay.push(call);
    } else {
      call.connection = this;
      call.seq = seq;
      this.#pending.set(seq, call);
    }
    this.#scheduleFlush();
  }

  /** The call settled elsewhere (deadline, abort): stop tracking it. */
  forget(call: Call): void {
    if (this.#pending.take(call.seq, call) === undefined) return;
    this.#callDone();
  }

  /** A call left the pending map: tell the endpoint; a retiring connection closes when empty. */
  #callDone(): void {
    this.#host.callDone(this);
    this.#closeIfDone();
  }

  /**
   * Closes a retiring connection with no call pending, once what was written this tick (a CANCEL,
   * a one-way request) is flushed: closing first would drop it.
   */
  #closeIfDone(): void {
    if (this.#retiring && this.#pending.size === 0 && !this.#flushScheduled) {
      this.connection.close();
    }
  }

  /**
   * Tells the server the call was given up (CANCEL), so that its handler's signal aborts. Sent on
   * any open connection, one that takes no new calls included (a GOAWAY, a retiring pool
   * connection): the server may still be running the call.
   */
  cancel(call: Call, expired: boolean): void {
    if (!this.#closed && this.connection.isActive()) {
      try {
        writeControl(
          this.connection.writer,
          this.#options.lengthHeader,
          Kind.CANCEL,
          call.seq,
          null,
          expired ? kFlagDeadline : 0,
        );
        this.#scheduleFlush();
      } catch {
        // Closed meanwhile: the server aborts the call when it sees the close.
      }
    }
    // After the write: forgetting the call may retire the connection (a pool that keeps no more
    // idle ones), which then closes once the CANCEL is flushed.
    this.forget(call);
  }

  /**
   * Liveness, called periodically: pings a connection silent for `pingInterval`, and closes it
   * when the pong does not come within `pingTimeout` (a hung server).
   */
  checkLiveness(time: number): void {
    const options = this.#options;
    if (this.#closed || options.pingInterval === 0) return;
    if (this.#pingSentAt !== 0) {
      if (time - this.#pingSentAt > options.pingTimeout) {
        const error = unavailableError(
          `no pong within pingTimeout (${options.pingTimeout} ms)`,
          true,
        );
        this.#host.connectionHung(this, error);
        this.destroy(error);
      }
      return;
    }
    if (time - this.lastActivity < options.pingInterval) return;
    this.#ping(time);
  }

  /**
   * Pings now, not after pingInterval of silence: a new connection to an endpoint whose server
   * was found hung must prove the server answers before the endpoint counts as healthy (a
   * stopped server's kernel still completes the handshake).
   */
  probe(): void {
    if (this.#closed || this.#options.pingInterval === 0 || this.#pingSentAt !== 0) return;
    this.#ping(now());
  }

  #ping(time: number): void {
    const options = this.#options;
    this.#pingSentAt = time;
    this.#pingId = (this.#pingId + 1) >>> 0;
    try {
      writeControl(this.connection.writer, options.lengthHeader, Kind.PING, this.#pingId, null);
      this.#scheduleFlush();
    } catch {
      // Closed meanwhile.
    }
  }

  /** Closes the connection; pending calls are retried or failed with `error`'s reason. */
  destroy(error: RpcError): void {
    if (this.#closed) return;
    this.#endCalls(error);
    this.connection.close();
  }

  /** Closes when no call is pending (a removed endpoint, an idle pool connection). */
  closeWhenIdle(): void {
    this.#retiring = true;
    this.#closeIfDone();
  }

  #scheduleFlush(): void {
    this.#dirty = true;
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueFlush(this);
  }

  /** @internal The end of the tick in which requests were written (see `../flush-queue`). */
  flushQueued(): void {
    this.#flushScheduled = false;
    if (this.#closed) return;
    if (this.#dirty) {
      this.#dirty = false;
      try {
        this.connection.writer.flush();
      } catch (error) {
        this.destroy(unavailableError('the connection closed', true, error));
        return;
      }
      if (this.#oneWay.length > 0) {
        // Resolved by an immediate: the reactor's check hook, which hands flushed output to the
        // kernel, runs before Node's immediates in every loop turn, so a caller that exits the
        // process once its one-way call resolved does not drop the request.
        setImmediate(sentAll, this.#oneWay);
        this.#oneWay = [];
        this.#host.callDone(this);
      }
    }
    // Retired with nothing pending (its last request one-way, or canceled): close, now written.
    this.#closeIfDone();
  }

  readonly #onFrames = (): void => {
    const reader = this.connection.reader;
    const lengthHeader = this.#options.lengthHeader;
    const header = this.#header;
    // The replies arrived with the batch that read them: its clock reading dates them.
    const readTime = this.connection.readTime;
    this.lastActivity = readTime > 0 ? readTime : now();
    this.#pingSentAt = 0; // anything from the server proves it alive
    if (!this.#heard) {
      this.#heard = true;
      this.#host.connectionAlive(this);
    }
    while (reader.len() > 0) {
      const length = peekLength(reader, lengthHeader);
      // The common reply is read without a view of its frame: two fewer objects per call.
      if (length >= kFixedHeaderSize && reader.peekUint16BE(lengthHeader) === kPlainResponse) {
        const seq = reader.peekUint32BE(lengthHeader + 2);
        reader.skip(lengthHeader + kFixedHeaderSize);
        this.#plainReply(reader, seq, length - kFixedHeaderSize, this.lastActivity);
        continue;
      }
      const frame = reader.next(lengthHeader + length);
      try {
        decodeHeader(frame, lengthHeader, frame.length, header);
      } catch (error) {
        this.destroy(error as RpcError);
        return;
      }
      switch (header.kind) {
        case Kind.RESPONSE:
        case Kind.ERROR:
          this.#reply(frame, header, this.lastActivity);
          break;
        case Kind.PING:
          // A server pings a connection it holds at its limit; this one may have closed itself
          // on an earlier reply of this batch (retired, nothing pending): nothing to answer then.
          if (this.#closed || !this.connection.isActive()) break;
          writeControl(
            this.connection.writer,
            lengthHeader,
            Kind.PONG,
            header.seq,
            frame.subarray(header.payloadStart, header.payloadEnd),
          );
          this.#scheduleFlush();
          break;
        case Kind.PONG:
          // An endpoint ejected for other, hung connections keeps this one idle: its pongs are
          // what shows the server answers.
          this.#host.connectionAlive(this);
          break;
        case Kind.GOAWAY:
          this.#goawaySeq = header.seq;
          this.#host.connectionDraining(this);
          break;
        default:
          this.destroy(protocolError(`a server sent message kind ${header.kind}`));
          return;
      }
    }
  };

  /** A RESPONSE without flags: its payload is the next `size` bytes of `reader`. */
  #plainReply(reader: ConnectionReader, seq: number, size: number, time: number): void {
    const call = this.#pending.take(seq);
    if (call === undefined) {
      if (size > 0) reader.skip(size);
      return;
    }
    call.connection = null;
    call.succeedFrom(reader, size, time);
    this.#callDone();
  }

  /** `time`: when the batch of frames arrived (the end of the call's latency). */
  #reply(frame: Buffer, header: MessageHeader, time: number): void {
    const call = this.#pending.take(header.seq);
    // A reply to a call given up meanwhile (deadline, abort) is dropped.
    if (call === undefined) return;
    call.connection = null;
    if (header.closing) {
      this.#goawaySeq = Math.max(this.#goawaySeq, header.seq);
      this.#host.connectionDraining(this);
    }
    if (header.kind === Kind.RESPONSE) {
      call.succeed(frame.subarray(header.payloadStart, header.payloadEnd), time);
    } else {
      const code = ascii(frame, header.codeStart, header.codeLength);
      const message = frame.toString(
        'utf8',
        header.messageStart,
        header.messageStart + header.messageLength,
      );
      if (code === 'DEADLINE_EXCEEDED' && time >= call.deadline) {
        // The server's deadline is this call's, counted from when the request arrived, so its
        // DEADLINE_EXCEEDED comes after the call's own deadline; only which of two timers fires
        // first decides whether the reply or the client's timer is seen first. The caller sees
        // its timeout either way. (One that comes earlier is a handler's own code: REMOTE.)
        if (header.refused) call.refused();
        const remote = remoteError(call.method, code, message, call.written);
        call.fail(timeoutError(call.method, call.timeout, call.written, remote));
      } else if (!header.refused) {
        // A handler or interceptor answered it: processed, whatever the code (a handler may
        // answer UNAVAILABLE after a partial write), so never sent again.
        call.fail(remoteError(call.method, code, message, true));
      } else if (code === 'UNAVAILABLE' && call.attempts < 2) {
        // Refused (shutdown, overload) before any handler ran: it may go elsewhere once.
        call.retry(false);
      } else {
        // Refused before any handler ran: processed only if an earlier attempt may have run.
        call.refused();
        call.fail(remoteError(call.method, code, message, call.written));
      }
    }
    this.#callDone();
  }

  readonly #onClose = (error: Error | null): void => {
    if (this.#closed) return;
    const reason =
      error === null
        ? unavailableError('the server closed the connection', true)
        : unavailableError(`the connection failed: ${error.message}`, true, error);
    this.#endCalls(reason);
  };

  /** The connection is gone: each pending call is retried or failed (see the file comment). */
  #endCalls(reason: RpcError): void {
    this.#closed = true;
    // One-way requests not flushed yet never left: they go elsewhere, as unread calls do.
    for (const call of this.#oneWay.splice(0)) call.unread();
    const calls = this.#pending.values();
    this.#pending.clear();
    const goaway = this.#goawaySeq;
    for (const call of calls) {
      call.connection = null;
      const neverRead = goaway >= 0 && call.seq > goaway;
      if (neverRead) call.unread();
      else if (call.idempotent && call.attempts < 2) call.retry(true);
      else call.fail(reason);
    }
    this.#host.connectionClosed(this, reason);
  }
}

function sentAll(calls: readonly Call[]): void {
  for (const call of calls) call.sent();
}
