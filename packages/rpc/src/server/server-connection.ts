/**
 * One accepted connection of an RPC server: reads whole frames (core's native framing), runs a
 * handler per request — concurrently, up to `maxConcurrentCalls`, beyond which the connection
 * stops reading — and writes replies as they complete, out of order. Replies of one read batch
 * leave with one flush; later ones are flushed once per tick.
 *
 * Lifetimes: a raw request is copied out of the socket's read slabs into pooled memory (so a slow
 * handler never pins the shared slabs) and freed when its handler settles; the call holds its
 * connection open (`connection.hold()`) meanwhile, so graceful shutdown waits for it. At shutdown
 * the connection answers the requests it read, then a GOAWAY naming the last one.
 */
import { Buffer } from 'node:buffer';
import type { Connection } from '@netpoll/core';
import * as mcache from '@netpoll/mcache';
import { serverCallChannel } from '../diagnostics';
import { closedError, protocolError, type RpcError } from '../errors';
import { type QueuedFlush, queueFlush } from '../flush-queue';
import { ascii, decodeHeader, decodeMetadata, MessageHeader, peekLength } from '../protocol/decode';
import {
  checkPayload,
  type Payload,
  writeControl,
  writeError,
  writeResponse,
} from '../protocol/encode';
import { Kind, kFlagDeadline } from '../protocol/frame';
import { SeqMap } from '../seq-map';
import { arrivalClock } from './arrival-clock';
import { CallContext } from './call-context';
import { errorReply, isThenable } from './handler-result';
import type { ServerCore } from './server-core';

const kEmpty = Buffer.alloc(0);
/**
 * Replies written in one read turn are flushed once they reach this many bytes, so a turn that
 * answers many requests (a client that pipelines them and reads nothing) meets the connection's
 * output limit (`writable`) instead of buffering every reply first.
 */
const kFlushAt = 64 * 1024;
// Read once: a package's exports (tsc's re-exports) are getters on an object in dictionary mode,
// so `mcache.malloc(n)` would look the name up and call a getter on every request.
const { free, malloc } = mcache;

export class ServerConnection implements QueuedFlush {
  readonly connection: Connection;
  readonly #core: ServerCore;
  readonly #header = new MessageHeader();
  /** Calls whose handler has not settled yet, by seq. */
  readonly #calls = new SeqMap<CallContext>();
  #highestSeq = 0;
  #goaway = false; // sent: replies carry CLOSING
  #closed = false;
  #paused = false; // at maxConcurrentCalls
  #outputHeld = false; // requests wait for 'drain': the client is not reading its replies
  #heldSince = 0; // arrival time of requests left unread at a limit
  /** This turn's batch reading (core's readTime), or 0 in a turn of held requests. */
  #readTime = 0;
  #release: (() => void) | null = null; // the connection hold while calls run
  #pausedPing: NodeJS.Timeout | null = null; // pings the client while #paused
  #pingId = 0;
  #inTurn = false;
  #dirty = false;
  #flushScheduled = false;
  #remoteAddress: string | null = null;

  constructor(connection: Connection, core: ServerCore) {
    this.connection = connection;
    this.#core = core;
  }

  get remoteAddress(): string {
    this.#remoteAddress ??= this.connection.remoteAddress;
    return this.#remoteAddress;
  }

  get deadlines() {
    return this.#core.deadlines;
  }

  /** Calls running now. */
  get inFlight(): number {
    return this.#calls.size;
  }

  // ---- reading --------------------------------------------------------------------------------

  /** core's onRequest: every whole frame buffered, up to the concurrency limit. */
  onRequest(): void {
    const reader = this.connection.reader;
    const options = this.#core.options;
    const lengthHeader = options.lengthHeader;
    const limit = options.maxConcurrentCalls;
    let arrival = this.#heldSince;
    if (arrival > 0) {
      // Requests held at a limit keep their arrival; time has passed since: read the clock.
      arrivalClock.read();
      this.#readTime = 0;
    } else {
      // New requests arrived with the batch that read them (see ./arrival-clock).
      this.#readTime = this.connection.readTime;
      arrival = this.#readTime > 0 ? this.#readTime : arrivalClock.read();
    }
    this.#heldSince = 0;
    this.#inTurn = true;
    // Read once per turn, and again after a flush in it: nothing else in the turn changes it
    // (native writes between turns).
    let writable = this.connection.writable;
    try {
      while (reader.len() > 0) {
        const length = peekLength(reader, lengthHeader);
        // The header is read in place (no view: offsets into the reader's memory); the payload
        // is then taken as a view of its own, so a copy of it (pooled requests) is a whole-view
        // copy, which needs no `.buffer` getter.
        const frame = reader.peekRegion(lengthHeader + length);
        const bodyStart = reader.peekStart + lengthHeader;
        const header = this.#header;
        try {
          decodeHeader(frame, bodyStart, bodyStart + length, header);
        } catch (error) {
          this.#core.onError(error as Error);
          this.connection.close();
          return;
        }
        // A request waits (unread) at a limit, and at maxConcurrentCalls the connection stops
        // reading; a PING or CANCEL ahead of any waiting request is still answered.
        if (header.kind === Kind.REQUEST || header.kind === Kind.ONE_WAY) {
          if (this.#calls.size >= limit) {
            this.#heldSince = arrival;
            this.#pause();
            break;
          }
          if (this.#dirty && this.connection.writer.mallocLen() >= kFlushAt) {
            this.#flush();
            writable = this.connection.writable;
          }
          if (!writable) {
            this.#heldSince = arrival;
            this.#outputHeld = true;
            break;
          }
        }
        reader.skip(header.payloadStart - bodyStart + lengthHeader);
        const payload = reader.next(header.payloadEnd - header.payloadStart);
        switch (header.kind) {
          case Kind.REQUEST:
          case Kind.ONE_WAY:
            // A seq is unique among a client's calls in flight: one reused would replace the
            // running call here, which then escapes maxConcurrentCalls, CANCEL and the abort at
            // close. (Only calls still running are kept: none, with synchronous handlers.)
            if (this.#calls.size > 0 && this.#calls.get(header.seq) !== undefined) {
              this.#core.onError(
                protocolError(`a client reused seq ${header.seq} of a call in flight`),
              );
              this.connection.close();
              return;
            }
            this.#start(frame, header, payload, arrival);
            break;
          case Kind.PING:
            writeControl(this.connection.writer, lengthHeader, Kind.PONG, header.seq, payload);
            this.#dirty = true;
            break;
          case Kind.CANCEL:
            arrivalClock.userCode(this.#readTime); // the signal's listeners run now
            this.#calls.get(header.seq)?.cancel((header.flags & kFlagDeadline) !== 0);
            break;
          case Kind.PONG:
            break;
          default:
            this.#core.onError(protocolError(`a client sent message kind ${header.kind}`));
            this.connection.close();
            return;
        }
      }
    } finally {
      this.#inTurn = false;
    }
    if (this.#dirty) this.#flush();
  }

  #start(frame: Buffer, header: MessageHeader, payload: Buffer, arrival: number): void {
    const core = this.#core;
    const seq = header.seq;
    const oneWay = header.kind === Kind.ONE_WAY;
    if (seq > this.#highestSeq) this.#highestSeq = seq;
    const method = core.methods.find(frame, header.methodStart, header.methodLength);
    if (method === undefined) {
      core.counters.countError('UNIMPLEMENTED');
      const name = ascii(frame, header.methodStart, header.methodLength);
      if (!oneWay) {
        this.#replyError(seq, 'UNIMPLEMENTED', `no method ${JSON.stringify(name)}`, true);
      }
      return;
    }
    const deadline = header.timeout > 0 ? arrival + header.timeout : Number.POSITIVE_INFINITY;
    // Passed while the request waited (behind a limit, or handlers run before it): not started.
    if (header.timeout > 0 && deadline <= arrivalClock.at(this.#readTime)) {
      core.counters.countError('DEADLINE_EXCEEDED');
      if (!oneWay) {
        this.#replyError(
          seq,
          'DEADLINE_EXCEEDED',
          'the deadline passed before the call started',
          true,
        );
      }
      return;
    }
    const metadata = header.metadataStart >= 0 ? decodeMetadata(frame, header) : null;
    const context = new CallContext(this, method, seq, deadline, metadata, oneWay);
    context.startedAt = arrival;
    const size = payload.length;
    // From here user code runs (decoder, interceptors, handler); a call that finishes now reads
    // the clock after it (#finish).
    arrivalClock.userCode(this.#readTime);
    if (method.rawRequest) {
      const pooled = size === 0 ? kEmpty : malloc(size);
      pooled.set(payload);
      context.pooled = size === 0 ? null : pooled;
      context.request = pooled;
    } else {
      try {
        context.request = method.requestSerializer.decode(payload);
      } catch (error) {
        core.counters.countError('INVALID_ARGUMENT');
        if (!oneWay)
          this.#replyError(
            seq,
            'INVALID_ARGUMENT',
            `the request could not be decoded: ${(error as Error)?.message}`,
            true,
          );
        return;
      }
    }
    core.counters.started++;
    core.counters.inFlight++;
    if (serverCallChannel.hasSubscribers) {
      context.trace = { method: method.name, request: context.request, context };
      serverCallChannel.start.publish(context.trace);
    }
    let result: unknown;
    try {
      result =
        core.interceptors.length === 0
          ? method.handler(context.request, context)
          : core.invoke(context);
    } catch (error) {
      this.#failed(context, error);
      return;
    }
    let thenable: boolean;
    try {
      thenable = isThenable(result);
    } catch (error) {
      // Its `then` could not be read (a getter that throws, a revoked proxy): as `await` would.
      this.#failed(context, error);
      return;
    }
    if (!thenable) {
      this.#succeeded(context, result);
      return;
    }
    this.#calls.set(seq, context);
    if (this.#release === null) this.#release = this.connection.hold();
    // Through Promise.resolve: a promise is used as it is, and any other thenable settles once,
    // as `await` would have it (one that calls back twice, or throws in `then`, gets one reply).
    Promise.resolve(result).then(
      (value) => this.#settle(context, value, null),
      (error) => this.#settle(context, undefined, error ?? new Error('rejected')),
    );
  }

  #settle(context: CallContext, value: unknown, error: unknown): void {
    this.#calls.take(context.seq, context);
    if (error === null) this.#succeeded(context, value);
    else this.#failed(context, error);
    this.#releaseIfIdle();
    if (this.#paused && this.#calls.size < this.#core.options.maxConcurrentCalls) this.#resume();
  }

  // ---- replies --------------------------------------------------------------------------------

  #succeeded(context: CallContext, value: unknown): void {
    const core = this.#core;
    const answer = this.#end(context);
    if (!answer) {
      if (this.#closed && !context.oneWay) {
        // The connection closed while the handler ran: the reply is lost, not delivered.
        this.#finish(context, 'CONNECTION_CLOSED', undefined, closedError('connection'));
      } else this.#finish(context, null, value, undefined);
      return;
    }
    let payload: Payload;
    try {
      payload = context.definition.responseSerializer.encode(value);
      checkPayload(payload, 'the encoded response');
    } catch (error) {
      this.#failed(context, error, 'the response could not be encoded');
      return;
    }
    try {
      writeResponse(
        this.connection.writer,
        core.options.lengthHeader,
        core.options.maxFrameSize,
        context.seq,
        null,
        payload,
        this.#goaway,
      );
      this.#wrote();
      this.#finish(context, null, value, undefined);
    } catch (error) {
      if ((error as RpcError)?.code === 'ERR_NETPOLL_RPC_FRAME_TOO_LARGE') {
        this.#replyError(context.seq, 'INTERNAL', (error as Error).message, false);
        this.#finish(context, 'INTERNAL', undefined, error);
      } else {
        // The connection closed while the handler ran: the reply has nowhere to go.
        this.#finish(context, 'CONNECTION_CLOSED', undefined, error);
      }
    }
  }

  #failed(context: CallContext, error: unknown, prefix?: string): void {
    const answer = this.#end(context);
    const reply = errorReply(error, this.#core.options.exposeErrors, prefix);
    // The handler (or an interceptor) ran: REFUSED only when it says it did nothing.
    if (answer) this.#replyError(context.seq, reply.code, reply.message, reply.refused);
    this.#finish(context, reply.code, undefined, error);
  }

  /** The call's handler settled: true when a reply should be written. */
  #end(context: CallContext): boolean {
    context.finish();
    return !context.oneWay && !this.#closed && !context.canceled;
  }

  #finish(context: CallContext, code: string | null, result: unknown, error: unknown): void {
    const time = arrivalClock.read();
    this.#core.counters.finish(code, time - context.startedAt);
    const trace = context.trace;
    if (trace !== null) {
      context.trace = null;
      if (code === null) {
        trace.result = result;
        serverCallChannel.asyncEnd.publish(trace);
      } else {
        trace.error = error;
        serverCallChannel.error.publish(trace);
      }
    }
    // Nothing reads the pooled request any more: the reply (which may be the request itself, an
    // echo) was copied into the writer, and trace subscribers have run.
    if (context.pooled !== null) {
      free(context.pooled);
      context.pooled = null;
    }
  }

  /**
   * Writes an ERROR. `refused`: the request was refused before any handler or interceptor ran
   * (REFUSED: the client then knows it was not processed and may send it elsewhere).
   */
  #replyError(seq: number, code: string, message: string, refused: boolean): void {
    if (this.#closed) return;
    const options = this.#core.options;
    try {
      writeError(
        this.connection.writer,
        options.lengthHeader,
        options.maxFrameSize,
        seq,
        code,
        message,
        null,
        this.#goaway,
        refused,
      );
      this.#wrote();
    } catch {
      // Closed meanwhile: nothing can be answered.
    }
  }

  /** A reply was written: flushed at the end of this read turn, or once per tick after it. */
  #wrote(): void {
    this.#dirty = true;
    if (this.#inTurn || this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueFlush(this);
  }

  /** @internal The end of the tick in which replies were written (see `../flush-queue`). */
  flushQueued(): void {
    this.#flushScheduled = false;
    if (this.#dirty) this.#flush();
  }

  #flush(): void {
    this.#dirty = false;
    if (this.#closed) return;
    try {
      this.connection.writer.flush();
    } catch {
      // Closed: the replies are lost with the connection, as the client will see.
    }
  }

  // ---- concurrency, shutdown, close -----------------------------------------------------------

  /** Lets the connection go (close on the peer's EOF, or at shutdown) once no call runs. */
  #releaseIfIdle(): void {
    if (this.#release === null || this.#calls.size > 0) return;
    const release = this.#release;
    this.#release = null;
    // Releasing may close the connection (shutdown, or the peer's EOF): flush the reply first.
    if (this.#dirty) this.#flush();
    release();
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.connection.pauseRead();
    const interval = this.#core.options.pausedPingInterval;
    if (interval > 0 && !this.#closed && this.#pausedPing === null) {
      this.#pausedPing = setInterval(() => this.#pingClient(), interval);
      this.#pausedPing.unref();
    }
  }

  #resume(): void {
    this.#paused = false;
    // The ping timer runs on (its next tick stops it if the connection is not held then): a call
    // that ends without a reply (one-way, canceled) frees a slot that the next waiting request
    // takes at once, and restarting the timer at each would let no ping out.
    this.connection.resumeRead();
    this.#readHeld();
  }

  /**
   * Held at the limit, the connection reads nothing, not even the client's PINGs: a PING of ours
   * (which the client answers, and counts as a sign of life) keeps it from taking the server for
   * hung while its calls run.
   */
  #pingClient(): void {
    if (this.#closed || !this.#paused) {
      this.#stopPausedPing();
      return;
    }
    // Output the kernel pushed back: the client reads nothing now, and pings would only pile up.
    if (this.connection.pendingBytes > 0) return;
    this.#pingId = (this.#pingId + 1) >>> 0;
    this.#sendControl(Kind.PING, this.#pingId);
  }

  /** Writes and flushes a control frame without payload now (nothing if closed meanwhile). */
  #sendControl(kind: typeof Kind.PING | typeof Kind.GOAWAY, seq: number): void {
    try {
      writeControl(this.connection.writer, this.#core.options.lengthHeader, kind, seq, null);
      this.#dirty = true;
      this.#flush();
    } catch {
      // Closed meanwhile.
    }
  }

  #stopPausedPing(): void {
    if (this.#pausedPing === null) return;
    clearInterval(this.#pausedPing);
    this.#pausedPing = null;
  }

  /** The client read its replies ('drain'): requests held for it may start. */
  onDrain(): void {
    if (!this.#outputHeld) return;
    this.#outputHeld = false;
    this.#readHeld();
  }

  /**
   * Frames left unread at a limit are still buffered: run the handler for them now — unless
   * another limit still holds them, or the GOAWAY is out: it named the last request read, and the
   * client resends the rest.
   */
  #readHeld(): void {
    if (this.#paused || this.#outputHeld || this.#goaway) return;
    if (this.connection.reader.len() > 0) this.connection.setOnRequest(this.#core.onRequest);
  }

  /** Graceful shutdown read this connection's last request: tell the client (GOAWAY). */
  onShutdown(): void {
    if (this.#goaway || this.#closed) return;
    this.#goaway = true;
    // An idle connection closes as soon as this event returns: flush now, not in a microtask.
    this.#sendControl(Kind.GOAWAY, this.#highestSeq);
  }

  /** The connection closed: running calls are aborted; their replies will not be written. */
  onClose(): void {
    this.#closed = true;
    this.#stopPausedPing();
    for (const context of this.#calls.values()) context.abort('CONNECTION_CLOSED');
  }
}
