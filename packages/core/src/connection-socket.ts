/**
 * The native socket settings of one connection: TCP keep-alive, pausing reads, and the local and
 * remote addresses. Each is one JS→native call when used (never per message). Addresses are
 * cached; `release()` looks up the ones not read yet before the fd is handed back, because the
 * kernel forgets them with the socket.
 */
import type { Reactor } from './reactor';

export class ConnectionSocket {
  readonly #reactor: Reactor;
  readonly #fd: number;
  readonly #tcp: boolean;
  #idleTimeout = 0;
  #paused = false;
  #released = false;
  #local: string | null = null;
  #remote: string | null = null;

  constructor(reactor: Reactor, fd: number, tcp: boolean) {
    this.#reactor = reactor;
    this.#fd = fd;
    this.#tcp = tcp;
  }

  /** The keep-alive in ms (0 = off). */
  get idleTimeout(): number {
    return this.#idleTimeout;
  }

  /** True between `pauseRead()` and `resumeRead()`. */
  get paused(): boolean {
    return this.#paused;
  }

  /** TCP keep-alive: idle = interval = ⌊ms / 1000⌋ s; under 1000 ms or on Unix a no-op. */
  setIdleTimeout(timeout: number): void {
    if (timeout < 1000 || !this.#tcp || this.#released) return;
    this.#idleTimeout = timeout;
    this.#reactor.countCall();
    this.#reactor.binding.setKeepAlive(this.#fd, Math.floor(timeout / 1000));
  }

  /** Pauses (false) or resumes (true) reading; no-op when unchanged or released. */
  setReading(reading: boolean): void {
    if (this.#paused !== reading || this.#released) return;
    this.#paused = !reading;
    this.#reactor.countCall();
    this.#reactor.binding.setReading(this.#fd, reading ? 1 : 0);
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
