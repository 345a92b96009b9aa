/**
 * The read and write timeouts of one connection on the reactor's timer wheel (one
 * coarse wheel per reactor, no Node timer per connection). The connection has one
 * entry, at the earlier of its pending `waitFor` deadline and its write deadline.
 */
import type { ConnectionReader } from './connection-reader';
import type { OutputQueue } from './output-queue';
import type { TimerTarget, TimerWheel } from './timer-wheel';

export class ConnectionTimeouts implements TimerTarget {
  /** Limit of each `reader.waitFor()` in ms (0 = none). */
  readTimeout: number;
  timerTick = -1;
  timerDue = 0;
  slot = -1;
  readonly #timers: TimerWheel;
  readonly #reader: ConnectionReader;
  readonly #output: OutputQueue;
  #stopped = false;

  constructor(
    timers: TimerWheel,
    reader: ConnectionReader,
    output: OutputQueue,
    readTimeout: number,
  ) {
    this.#timers = timers;
    this.#reader = reader;
    this.#output = output;
    this.readTimeout = readTimeout;
  }

  /** A deadline was set: make sure the wheel calls back by the earliest one. */
  rearm(): void {
    let deadline = this.#reader.waitDeadline;
    const writeDeadline = this.#output.deadline;
    if (writeDeadline !== 0 && (deadline === 0 || writeDeadline < deadline)) {
      deadline = writeDeadline;
    }
    if (deadline !== 0 && !this.#stopped) this.#timers.schedule(this, deadline);
  }

  /** Timer wheel: expires the read wait and checks the write deadline, then re-arms. */
  onTimer(now: number): void {
    this.#reader.expireWait(now);
    this.#output.checkTimeout(now);
    this.rearm();
  }

  /** The connection closed: nothing is scheduled any more, and its entry leaves the wheel now. */
  stop(): void {
    this.#stopped = true;
    this.#timers.cancel(this);
  }
}
