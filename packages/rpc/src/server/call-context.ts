/**
 * What a handler knows about its call: the method, metadata, deadline, the peer, and an
 * `AbortSignal` that aborts when the deadline passes, the client cancels, or the connection
 * closes. The signal is created on first use, so calls that never look at it cost no
 * AbortController and no timer.
 */
import type { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import type { Deadlined, DeadlineHeap } from '../deadline-heap';
import type { Method } from './service';

/** Why a call's signal aborted: its `reason` is an Error with one of these `code`s. */
export type AbortCode = 'DEADLINE_EXCEEDED' | 'CANCELLED' | 'CONNECTION_CLOSED';

const kAbortMessages: Readonly<Record<AbortCode, string>> = {
  DEADLINE_EXCEEDED: 'the call deadline passed',
  CANCELLED: 'the client canceled the call',
  CONNECTION_CLOSED: 'the connection closed',
};

const kNoMetadata: Readonly<Record<string, string>> = Object.freeze(Object.create(null));

/** The trace message of a call, while someone subscribes to the server call channel. */
export interface ServerCallTrace {
  method: string;
  request: unknown;
  context: CallContext;
  result?: unknown;
  error?: unknown;
}

/** The parts of a server connection a call reports back to. */
export interface CallOwner {
  readonly remoteAddress: string;
  readonly deadlines: DeadlineHeap;
}

export class CallContext implements Deadlined {
  /** The method name. */
  readonly method: string;
  /** The request's metadata (string keys to string values; empty when none was sent). */
  readonly metadata: Readonly<Record<string, string>>;
  /** True for a one-way call (no reply is sent). */
  readonly oneWay: boolean;
  /** The decoded request (interceptors may look at it). */
  request: unknown = undefined;
  /** @internal Monotonic ms of the deadline (`performance.now()` clock), or Infinity. */
  readonly deadline: number;
  /** @internal DeadlineHeap position. */
  heapIndex = -1;
  /** @internal */
  readonly seq: number;
  /** @internal */
  readonly definition: Method;
  /** @internal Pooled memory holding the request, freed when the call ends. */
  pooled: Buffer | null = null;
  /** @internal Set once the call's handler settled (or it never ran). */
  ended = false;
  /** @internal Monotonic ms when the request arrived. */
  startedAt = 0;
  /** @internal The trace message, while someone subscribes to the server call channel. */
  trace: ServerCallTrace | null = null;
  readonly #owner: CallOwner;
  #controller: AbortController | null = null;
  #abortCode: AbortCode | null = null;

  /** @internal */
  constructor(
    owner: CallOwner,
    definition: Method,
    seq: number,
    deadline: number,
    metadata: Readonly<Record<string, string>> | null,
    oneWay: boolean,
  ) {
    this.#owner = owner;
    this.definition = definition;
    this.method = definition.name;
    this.seq = seq;
    this.deadline = deadline;
    this.metadata = metadata ?? kNoMetadata;
    this.oneWay = oneWay;
  }

  /** The peer's address (`"ip:port"`, or the Unix path). */
  get remoteAddress(): string {
    return this.#owner.remoteAddress;
  }

  /** The deadline as a wall-clock time (`Date.now()` ms), or `Infinity` when there is none. */
  get deadlineTime(): number {
    return this.deadline === Number.POSITIVE_INFINITY
      ? this.deadline
      : Date.now() + (this.deadline - performance.now());
  }

  /** ms left until the deadline (never negative), or `Infinity`. */
  timeRemaining(): number {
    return this.deadline === Number.POSITIVE_INFINITY
      ? this.deadline
      : Math.max(0, this.deadline - performance.now());
  }

  /**
   * Aborts when the deadline passes (`reason.code` `'DEADLINE_EXCEEDED'`), the client cancels
   * (`'CANCELLED'`) or the connection closes (`'CONNECTION_CLOSED'`). Pass it on to the work the
   * handler starts (a `WorkerPool` task, a fetch, a query).
   */
  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#abortCode !== null) this.#abort(this.#abortCode);
      else if (this.deadline !== Number.POSITIVE_INFINITY && !this.ended) {
        this.#owner.deadlines.add(this);
      }
    }
    return this.#controller.signal;
  }

  /** @internal The client gave up the call (CANCEL): no reply is written. */
  canceled = false;

  /**
   * @internal A CANCEL: the signal aborts with `DEADLINE_EXCEEDED` when the client gave up at its
   * deadline (`expired`), else with `CANCELLED`.
   */
  cancel(expired: boolean): void {
    this.canceled = true;
    this.abort(expired ? 'DEADLINE_EXCEEDED' : 'CANCELLED');
  }

  /** @internal The deadline passed while the handler ran (only watched once `signal` was used). */
  expire(): void {
    this.abort('DEADLINE_EXCEEDED');
  }

  /** @internal */
  abort(code: AbortCode): void {
    if (this.#abortCode !== null) return;
    this.#abortCode = code;
    if (this.#controller !== null) this.#abort(code);
  }

  /** @internal The call ended: stop watching its deadline. */
  finish(): void {
    this.ended = true;
    if (this.heapIndex >= 0) this.#owner.deadlines.remove(this);
  }

  #abort(code: AbortCode): void {
    const reason = Object.assign(new Error(kAbortMessages[code]), { code });
    this.#controller!.abort(reason);
  }
}
