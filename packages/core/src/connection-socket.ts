/**
 * The native socket settings of one connection: TCP keep-alive, pausing reads, and the local and
 * remote addresses. Each is one JS→native call when used (never per message). Addresses are
 * cached; `release()` looks up the ones not read yet before the fd is handed back, because the
 * kernel forgets them with the socket.
 *
 * Reading is paused for any of three reasons, and resumes when none is left: `pauseRead()`, and
 * the connection holding back by itself so that one peer cannot take the reactor's inbound memory
 * from the others — while `readHighWaterMark` bytes of input wait unconsumed (or what a pending
 * `waitFor(n)` needs, if more), and, for an accepted connection, while `highWaterMark` bytes of
 * output wait unsent. Those two are published on the backpressure diagnostics channel.
 */
import { backpressureChannel } from './diagnostics';
import type { Reactor } from './reactor';

/** Why reading is paused: bits, reading resumes when none is left. */
export const kPauseUser = 1; // pauseRead()
const kPauseInput = 2; // unconsumed input reached readHighWaterMark
const kPauseOutput = 4; // unsent output reached highWaterMark

export class ConnectionSocket {
  readonly #reactor: Reactor;
  readonly #fd: number;
  readonly #tcp: boolean;
  readonly #connection: object; // the message subject of the backpressure channel
  readonly #readHighWaterMark: number;
  readonly #throttlesOutput: boolean;
  #idleTimeout = 0;
  #paused = 0; // kPause* bits
  #released = false;
  #local: string | null = null;
  #remote: string | null = null;

  /**
   * @param throttlesOutput whether unsent output pauses reading: accepted connections only (a
   *   dialed one must keep reading while it sends, or a client that uploads a lot before reading
   *   the replies would deadlock with its server).
   */
  constructor(
    reactor: Reactor,
    fd: number,
    tcp: boolean,
    connection: object,
    readHighWaterMark: number,
    throttlesOutput: boolean,
  ) {
    this.#reactor = reactor;
    this.#fd = fd;
    this.#tcp = tcp;
    this.#connection = connection;
    this.#readHighWaterMark = readHighWaterMark;
    this.#throttlesOutput = throttlesOutput;
  }

  /** `length` bytes wait unconsumed and a pending wait needs `waitSize`: hold back or go on. */
  inputChanged(length: number, waitSize: number): void {
    if (length >= Math.max(this.#readHighWaterMark, waitSize)) this.#throttle(kPauseInput, true);
    else if ((this.#paused & kPauseInput) !== 0) this.#throttle(kPauseInput, false);
  }

  /** Everything buffered was consumed: reading held back for input goes on (hot path: one test). */
  inputConsumed(): void {
    if ((this.#paused & kPauseInput) !== 0) this.#throttle(kPauseInput, false);
  }

  /** True when `length` unconsumed bytes may hold back reading (cheap test for the hot path). */
  inputNeedsCheck(length: number): boolean {
    return length >= this.#readHighWaterMark || (this.#paused & kPauseInput) !== 0;
  }

  /** Unsent output reached `highWaterMark` (true) or fell below it (false). */
  outputChanged(full: boolean): void {
    if (this.#throttlesOutput) this.#throttle(kPauseOutput, full);
  }

  #throttle(reason: number, paused: boolean): void {
    if (!this.pause(reason, paused) || !backpressureChannel.hasSubscribers) return;
    const name = reason === kPauseInput ? 'input' : 'output';
    backpressureChannel.publish({ connection: this.#connection, reason: name, paused });
  }

  /** The keep-alive in ms (0 = off). */
  get idleTimeout(): number {
    return this.#idleTimeout;
  }

  /** True while reading is paused for any reason. */
  get paused(): boolean {
    return this.#paused !== 0;
  }

  /** TCP keep-alive: idle = interval = ⌊ms / 1000⌋ s; under 1000 ms or on Unix a no-op. */
  setIdleTimeout(timeout: number): void {
    if (timeout < 1000 || !this.#tcp || this.#released) return;
    this.#idleTimeout = timeout;
    this.#reactor.countCall();
    // Linux refuses keep-alive idle times above 32767 s; a longer timeout uses the longest.
    this.#reactor.binding.setKeepAlive(this.#fd, Math.min(Math.floor(timeout / 1000), 32767));
  }

  /**
   * Sets or clears one reason to pause reading (a kPause* bit); native is told only when reading
   * starts or stops. Returns false when nothing changed (or released).
   */
  pause(reason: number, paused: boolean): boolean {
    if (this.#released) return false;
    const before = this.#paused;
    const after = paused ? before | reason : before & ~reason;
    if (after === before) return false;
    this.#paused = after;
    if ((before === 0) !== (after === 0)) {
      this.#reactor.countCall();
      this.#reactor.binding.setReading(this.#fd, after === 0 ? 1 : 0);
    }
    return true;
  }

  /** `"ip:port"`, `"[ip6]:port"` or the Unix path of this end. */
  localAddress(): string {
    this.#local ??= this.#address(0);
    return this.#local;
  }

  /** The peer's address, same format. */
  remoteAddress(): string {
    this.#remote ??= this.#address(1);
    return this.#remote;
  }

  /** The fd is about to be handed back: keep the addresses, make no more native calls. */
  release(): void {
    if (this.#released) return;
    this.localAddress();
    this.remoteAddress();
    this.#released = true;
  }

  #address(peer: number): string {
    this.#reactor.countCall();
    const result = this.#reactor.binding.address(this.#fd, peer);
    return typeof result === 'string' ? result : '';
  }
}
