/**
 * The dialer: netpoll's `DialConnection` (`net_dialer.go`). Host names are resolved with
 * `dns.lookup`; the connect is non-blocking and completes through the reactor (a connect record),
 * so dialing costs no thread and no per-dial Node timer (the reactor's timer wheel holds timeouts;
 * a dial leaves it as soon as it connects or fails).
 */
import { lookup } from 'node:dns';
import { AbortError, onAbort } from './abort';
import { checkNetwork, familyOf, type Network, type ParsedAddress, parseAddress } from './address';
import { Connection } from './connection';
import { publishOpen } from './diagnostics';
import { dialTimeoutError } from './errors';
import { getReactor } from './get-reactor';
import { type DialOptions, type ResolvedDialOptions, resolveDialOptions } from './options';
import type { Reactor, ReactorStream } from './reactor';
import { systemError } from './system-error';
import { monotonicNow, type TimerTarget } from './timer-wheel';

/**
 * Connects to `address` and resolves with an active {@link Connection} (no callbacks, no handler:
 * read it with `reader.waitFor`, or install `setOnRequest`). `tcp` addresses are `"host:port"`
 * (host names resolved; `tcp4`/`tcp6` pick the family); `unix` addresses are paths.
 *
 * `options.timeout` (ms, 0 = none) limits DNS lookup plus connect for TCP and rejects with
 * `ERR_NETPOLL_DIAL_TIMEOUT` (`timeout: true`); unix dials ignore it (netpoll). A refused connect
 * rejects with a {@link NetpollSystemError} (`code: 'ECONNREFUSED'`, negative `errno`,
 * `syscall: 'connect'`). `options.signal` aborting rejects with an `AbortError` (`code:
 * 'ABORT_ERR'`) and closes the socket. Bad arguments throw `ERR_NETPOLL_INVALID_ARG`/
 * `_OUT_OF_RANGE` synchronously.
 */
export function dialConnection(
  network: Network,
  address: string,
  options?: DialOptions,
): Promise<Connection> {
  const parsed = parseAddress(checkNetwork(network), address);
  const resolved = resolveDialOptions(options);
  const reactor = getReactor();
  const signal = resolved.signal;
  if (signal?.aborted) return Promise.reject(new AbortError(signal.reason));
  return new Promise<Connection>((resolve, reject) => {
    const dial = new PendingDial(reactor, parsed, address, resolved, resolve, reject);
    dial.start();
  });
}

class PendingDial implements ReactorStream, TimerTarget {
  timerTick = -1;
  timerDue = 0;
  slot = -1;
  #fd = -1;
  #done = false;
  #deadline = 0;
  #candidates: string[] = [];
  #stopListening: () => void = () => {};

  constructor(
    private readonly reactor: Reactor,
    private readonly parsed: ParsedAddress,
    private readonly address: string,
    private readonly options: ResolvedDialOptions,
    private readonly resolve: (connection: Connection) => void,
    private readonly reject: (error: Error) => void,
  ) {}

  start(): void {
    this.#stopListening = onAbort(this.options.signal, () => {
      if (!this.#done) this.#finish(new AbortError(this.options.signal?.reason));
    });
    const timeout = this.parsed.network === 'unix' ? 0 : this.options.timeout;
    if (timeout > 0) {
      this.#deadline = monotonicNow() + timeout;
      this.reactor.timers.schedule(this, this.#deadline);
    }
    if (this.parsed.network === 'unix') {
      this.#connect(this.parsed.host);
      return;
    }
    const family = this.parsed.version;
    const host = this.parsed.host === '' ? 'localhost' : this.parsed.host;
    lookup(host, { family, all: true }, (error, addresses) => {
      if (this.#done) return;
      if (error !== null) {
        this.#finish(error);
        return;
      }
      // Like Go's dialer: try each resolved address in turn until one connects.
      this.#candidates = addresses.map((entry) => entry.address);
      this.#next(-111);
    });
  }

  /** Connects to the next candidate, or fails with the last error when none is left. */
  #next(lastErrno: number): void {
    const ip = this.#candidates.shift();
    if (ip === undefined) {
      this.#finish(systemError(lastErrno, 'connect', this.address));
      return;
    }
    this.#connect(ip);
  }

  #connect(ip: string): void {
    const framing = this.options.framing;
    const header = framing?.lengthHeader ?? 0;
    const maxFrame = framing?.maxFrameSize ?? 0;
    if (framing !== null) this.reactor.inbound.ensureFrameCapacity(header + maxFrame);
    this.reactor.countCall();
    const fd = this.reactor.binding.connect(
      familyOf(this.parsed, ip),
      ip,
      this.parsed.port,
      header,
      maxFrame,
    );
    if (fd < 0) {
      if (this.#candidates.length > 0) this.#next(fd);
      else this.#finish(systemError(fd, 'connect', this.address));
      return;
    }
    this.#fd = fd;
    this.reactor.attachStream(fd, this);
  }

  onConnectResult(errno: number): void {
    if (this.#done) return;
    if (errno < 0) {
      if (this.#candidates.length > 0) {
        this.#release();
        this.#next(errno);
        return;
      }
      this.#finish(systemError(errno, 'connect', this.address));
      return;
    }
    this.#done = true;
    this.#stopTimer();
    this.#stopListening();
    this.reactor.detachStream(this.#fd, this);
    const connection = new Connection(
      this.reactor,
      this.#fd,
      this.parsed.network,
      this.options,
      null,
    );
    publishOpen(connection, 'client');
    this.resolve(connection);
  }

  onTimer(now: number): void {
    if (this.#done || this.#deadline === 0) return;
    if (now < this.#deadline) {
      this.reactor.timers.schedule(this, this.#deadline);
      return;
    }
    this.#finish(dialTimeoutError(this.address, this.options.timeout));
  }

  #finish(error: Error): void {
    this.#done = true;
    this.#stopTimer();
    this.#stopListening();
    this.#release();
    this.reject(error);
  }

  /** The dial is over: leave the timer wheel now rather than at the deadline. */
  #stopTimer(): void {
    if (this.#deadline === 0) return;
    this.#deadline = 0;
    this.reactor.timers.cancel(this);
  }

  /** Gives the pending socket back to the reactor (closed after the current batch). */
  #release(): void {
    if (this.#fd < 0) return;
    this.reactor.detachStream(this.#fd, this);
    this.reactor.submitClose(this.#fd, 0, () => {});
    this.#fd = -1;
  }

  onData(): void {}
  onHangup(errno: number): void {
    this.onConnectResult(errno < 0 ? errno : -104);
  }
  onDrain(): void {}
  onFrameTooLarge(): void {}
  onInputEnd(): void {}
  evacuateInput(): number {
    return 0;
  }
}
