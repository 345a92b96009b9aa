/**
 * One call of a client, from `client.call()` until its promise settles: the encoded request, the
 * deadline (in the client's deadline heap), the caller's abort signal, and where it is — waiting
 * for a connection, or written on one with a sequence number. It settles exactly once.
 */
import { Buffer } from 'node:buffer';
import type { ConnectionReader, SignalWatcher } from '@netpoll/core';
import * as core from '@netpoll/core';
import { now } from '../clock';
import type { DeadlineEntry, DeadlineList } from '../deadline-queue';
import { clientCallChannel } from '../diagnostics';
import {
  canceledError,
  type RpcError,
  serializationError,
  timeoutError,
  unavailableError,
} from '../errors';
import type { Payload } from '../protocol/encode';
import { rawSerializer, type Serializer } from '../serializers';
import type { ClientConnection } from './client-connection';
import type { Endpoint } from './endpoint';

// Read once: a package's exports are getters on an object in dictionary mode (see encode.ts).
const { unwatchSignal, watchSignal } = core;

/** What a call needs from its client. */
export interface CallHost {
  /** Takes the call out of the deadline heap and records its outcome (`time`: ms, now). */
  ended(call: Call, error: RpcError | null, time?: number): void;
  /** Sends the call (again) to an endpoint; it was never processed. */
  dispatch(call: Call): void;
}

/** The trace message of a call, while someone subscribes to the client call channel. */
export interface CallTrace {
  method: string;
  request: unknown;
  metadata: Readonly<Record<string, string>> | undefined;
  endpoint: string | null;
  attempt: number;
  result?: unknown;
  error?: unknown;
}

const kNoBytes = Buffer.alloc(0);

/**
 * Whether a reply may still be copied into the caller's `into`, shared by the attempts one
 * `client.call()` makes through its interceptors (a hedge, a retry): closed by the first reply
 * copied there, and when the caller's promise settles, so that no attempt still in flight writes
 * into a Buffer the caller has, or has handed to its next call.
 */
export interface IntoLease {
  open: boolean;
}

/**
 * The most times one call is written. A call no server read (written after the seq of a GOAWAY)
 * is sent again transparently up to this: a server, or something in front of it, that answers
 * every connection with a GOAWAY naming nothing read would otherwise have the call re-dial and
 * resend at once, thousands of times a second, until its deadline, or forever without one.
 */
export const kMaxAttempts = 5;

export class Call implements DeadlineEntry, SignalWatcher {
  readonly method: string;
  readonly methodBytes: Buffer;
  readonly payload: Payload;
  /** The payload's bytes on the wire (measured once, by the client's size check). */
  readonly payloadSize: number;
  readonly metadata: Buffer | null;
  readonly oneWay: boolean;
  readonly idempotent: boolean;
  readonly timeout: number;
  readonly startedAt: number;
  readonly deadline: number;
  deadlineList: DeadlineList | null = null;
  deadlinePrev: DeadlineEntry | null = null;
  deadlineNext: DeadlineEntry | null = null;
  /** Attempts sent so far (a retry after a connection failure adds one). */
  attempts = 0;
  /** The endpoint it was last given to (a retry prefers another); null before the first. */
  endpoint: Endpoint | null = null;
  /** The connection it is written on, and its seq there; null while not written. */
  connection: ClientConnection | null = null;
  seq = 0;
  /** Written on some connection at least once (the server may have processed it). */
  written = false;
  /** `written` before the last attempt, restored when that attempt provably did not run. */
  #writtenBefore = false;
  settled = false;
  /** Pool: when waiting for a free connection ends (monotonic ms). */
  waitUntil = 0;
  trace: CallTrace | null = null;
  readonly #host: CallHost;
  readonly #serializer: Serializer<unknown>;
  /** The caller's Buffer for the reply (raw serializer), or null. */
  readonly #into: Buffer | null;
  /** Interceptors may make several attempts per `into`: the first reply takes it. */
  readonly #lease: IntoLease | null;
  readonly #resolve: (value: unknown) => void;
  readonly #reject: (error: RpcError) => void;
  #signal: AbortSignal | null = null;

  constructor(
    host: CallHost,
    method: string,
    methodBytes: Buffer,
    payload: Payload,
    payloadSize: number,
    metadata: Buffer | null,
    timeout: number,
    oneWay: boolean,
    idempotent: boolean,
    serializer: Serializer<unknown>,
    into: Buffer | null,
    lease: IntoLease | null,
    resolve: (value: unknown) => void,
    reject: (error: RpcError) => void,
  ) {
    this.#host = host;
    this.method = method;
    this.methodBytes = methodBytes;
    this.payload = payload;
    this.payloadSize = payloadSize;
    this.metadata = metadata;
    this.timeout = timeout;
    this.oneWay = oneWay;
    this.idempotent = idempotent;
    this.#serializer = serializer;
    this.#into = into;
    this.#lease = lease;
    this.#resolve = resolve;
    this.#reject = reject;
    this.startedAt = now();
    this.deadline = timeout > 0 ? this.startedAt + timeout : Number.POSITIVE_INFINITY;
  }

  /** ms left before the deadline, for the wire (0: no deadline; at least 1 otherwise). */
  timeLeft(time: number): number {
    // Rounded up to whole ms, but not by a float's last bit (1000.0000000001 must not be 1001).
    return this.timeout === 0 ? 0 : Math.max(1, Math.ceil(this.deadline - time - 1e-6));
  }

  /** Listens to the caller's signal until the call settles. */
  watch(signal: AbortSignal): void {
    this.#signal = signal;
    watchSignal(signal, this);
  }

  /**
   * Settled, or about to be: its caller's signal aborted and its watcher has yet to run (calls
   * sharing a signal fail one after another, and the first may free a connection for the next).
   * Nothing sends or queues a finished call.
   */
  get finished(): boolean {
    return this.settled || this.#signal?.aborted === true;
  }

  /** @internal The signal it watches aborted (core's `watchSignal`). */
  abortedBy(signal: AbortSignal): void {
    this.#giveUp(canceledError(this.method, signal.reason, this.written));
  }

  /**
   * The reply: decoded by the call's serializer (a decode failure fails the call). `time`: when
   * it arrived (monotonic ms).
   */
  succeed(payload: Buffer, time?: number): void {
    if (this.settled) return;
    const reply = this.#takeInto(payload.length);
    if (reply !== null) {
      payload.copy(reply);
      this.#succeeded(reply, time);
      return;
    }
    let value: unknown;
    try {
      value = this.#serializer.decode(payload);
    } catch (error) {
      this.fail(serializationError(`decode the response of ${this.method}`, error, true));
      return;
    }
    this.#succeeded(value, time);
  }

  #succeeded(value: unknown, time: number | undefined): void {
    this.settled = true;
    this.#cleanup();
    this.#host.ended(this, null, time);
    if (this.trace !== null) {
      this.trace.result = value;
      clientCallChannel.asyncEnd.publish(this.trace);
    }
    this.#resolve(value);
  }

  /**
   * The reply's payload is the next `size` bytes of `reader` (consumed here): the raw serializer's
   * copy (into the caller's `into` when it fits) is read straight out of it, other serializers
   * decode a view.
   */
  succeedFrom(reader: ConnectionReader, size: number, time: number): void {
    if (this.#serializer !== rawSerializer) {
      this.succeed(size === 0 ? kNoBytes : reader.next(size), time);
    } else if (this.settled) {
      if (size > 0) reader.skip(size);
    } else {
      let reply = this.#takeInto(size);
      if (reply === null) reply = size === 0 ? Buffer.alloc(0) : reader.readBinary(size);
      else if (size > 0) reader.read(reply);
      this.#succeeded(reply, time);
    }
  }

  /**
   * The part of the caller's `into` a reply of `size` bytes fills (`into` itself when it fits
   * exactly), or null: no `into`, too small, or another attempt took it.
   */
  #takeInto(size: number): Buffer | null {
    const into = this.#into;
    if (into === null || size > into.length) return null;
    const lease = this.#lease;
    if (lease !== null) {
      if (!lease.open) return null;
      lease.open = false;
    }
    return size === into.length ? into : into.subarray(0, size);
  }

  /** A one-way call was written: it succeeds with nothing. */
  sent(): void {
    if (this.settled) return;
    this.settled = true;
    this.#cleanup();
    this.#host.ended(this, null);
    if (this.trace !== null) clientCallChannel.asyncEnd.publish(this.trace);
    this.#resolve(undefined);
  }

  fail(error: RpcError): void {
    if (this.settled) return;
    this.settled = true;
    this.#cleanup();
    this.#host.ended(this, error);
    if (this.trace !== null) {
      this.trace.error = error;
      clientCallChannel.error.publish(this.trace);
    }
    this.#reject(error);
  }

  /** The deadline passed (from the client's deadline heap). */
  expire(): void {
    // A CANCEL flagged DEADLINE: the server stops the call and sends no reply (its own deadline
    // may be much later, when the request waited unread), and the handler's signal says
    // DEADLINE_EXCEEDED rather than CANCELLED.
    this.#giveUp(timeoutError(this.method, this.timeout, this.written), true);
  }

  /** Fails the call and tells the server it can stop (CANCEL). */
  #giveUp(error: RpcError, expired = false): void {
    if (this.settled) return;
    this.connection?.cancel(this, expired);
    this.fail(error);
  }

  #cleanup(): void {
    this.connection?.forget(this);
    this.connection = null;
    if (this.#signal !== null) {
      unwatchSignal(this.#signal, this);
      this.#signal = null;
    }
  }

  /** Its request was written on a connection: the server may run it from now on. */
  wrote(): void {
    this.#writtenBefore = this.written;
    this.written = true;
  }

  /**
   * The attempt that ended provably did not run (never read before a GOAWAY): sent again, or,
   * after {@link kMaxAttempts}, failed with `ERR_NETPOLL_RPC_UNAVAILABLE` (processed only if an
   * earlier attempt may have run).
   */
  unread(): void {
    if (this.settled) return;
    if (this.attempts < kMaxAttempts) {
      this.retry(false);
      return;
    }
    this.written = this.#writtenBefore;
    this.connection = null;
    this.fail(
      unavailableError(
        `no server read the call in ${this.attempts} attempts (GOAWAY)`,
        this.written,
      ),
    );
  }

  /**
   * The attempt that ended was refused by the server before any handler ran (an ERROR marked
   * REFUSED): the call counts as processed only if an earlier attempt may have run.
   */
  refused(): void {
    this.written = this.#writtenBefore;
  }

  /**
   * Sends the call again. `processed`: whether the attempt that ended may have run. When it
   * provably did not (never read before a GOAWAY, refused UNAVAILABLE), the call counts as
   * processed only if an earlier attempt may have run, so a later failure reports it truly.
   */
  retry(processed: boolean): void {
    if (this.settled) return;
    if (!processed) this.written = this.#writtenBefore;
    this.connection = null;
    this.#host.dispatch(this);
  }
}

/** Drops the calls that settled (a deadline, an abort) from `calls`, in place, keeping the order. */
export function dropSettled(calls: Call[]): void {
  let kept = 0;
  for (let i = 0; i < calls.length; i++) if (!calls[i]!.settled) calls[kept++] = calls[i]!;
  calls.length = kept;
}
