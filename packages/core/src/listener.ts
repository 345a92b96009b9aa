/**
 * Listeners: netpoll's `CreateListener` (`net_listener.go`). The socket is bound and listening
 * when `createListener` returns; it accepts once an EventLoop serves it.
 */
import { unlinkSync } from 'node:fs';
import { type InspectOptions, inspect } from 'node:util';
import { checkNetwork, familyOf, listenHost, type Network, parseAddress } from './address';
import { closedError } from './errors';
import { getReactor } from './get-reactor';
import { timeoutOption } from './option-checks';
import { kDefaultConnectionOptions, type ListenerOptions, resolveListenerOptions } from './options';
import type { Reactor } from './reactor';
import { systemError } from './system-error';

/** A listening TCP or Unix socket owned by this thread's reactor. */
export class Listener {
  /** `'tcp'` or `'unix'`. */
  readonly network: 'tcp' | 'unix';
  /** The bound address (`"127.0.0.1:40123"` with the real port, or the Unix path). */
  readonly address: string;
  /** The listening fd. */
  readonly fd: number;
  /** The `listen()` backlog it was created with (reactor workers bind their sockets alike). */
  readonly backlog: number;
  readonly #reactor: Reactor;
  readonly #ownsPath: boolean;
  #closed = false;
  #onClose: (() => void) | null = null;

  /**
   * @internal Use {@link createListener}. `ownsPath` false: `close()` leaves the Unix socket path
   * in place (a reactor worker's duplicate of a listener the main thread owns).
   */
  constructor(
    reactor: Reactor,
    network: 'tcp' | 'unix',
    fd: number,
    address: string,
    backlog: number,
    ownsPath = true,
  ) {
    this.#reactor = reactor;
    this.network = network;
    this.fd = fd;
    this.address = address;
    this.backlog = backlog;
    this.#ownsPath = ownsPath;
  }

  /** The port of a TCP listener (0 for Unix). */
  get port(): number {
    if (this.network !== 'tcp') return 0;
    return Number(this.address.slice(this.address.lastIndexOf(':') + 1));
  }

  /** True once `close()` ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** @internal True while an EventLoop serves it. */
  get served(): boolean {
    return this.#onClose !== null;
  }

  /**
   * Stops listening and closes the fd; a Unix socket path is unlinked. Idempotent. Connections
   * already waiting in the backlog are accepted and closed unread, lingering (up to 5000 ms, or
   * `lingerTimeout` when given — `eventLoop.shutdown` passes its timeout), so their peers read
   * EOF instead of a reset. An EventLoop serving it sees the close (its `serve()` promise rejects
   * with `ERR_NETPOLL_CLOSED` unless the close came from `shutdown()`). `lingerTimeout` is a
   * timeout as the option of that name (an integer from 0 to 2147483647, else
   * `ERR_NETPOLL_INVALID_ARG` / `ERR_NETPOLL_OUT_OF_RANGE`).
   */
  close(lingerTimeout?: number): void {
    const linger = timeoutOption(
      lingerTimeout,
      'lingerTimeout',
      kDefaultConnectionOptions.lingerTimeout,
    );
    if (this.#closed) return;
    this.#closed = true;
    this.#reactor.countCall();
    this.#reactor.binding.close(this.fd, linger);
    if (this.network === 'unix' && this.#ownsPath) {
      try {
        unlinkSync(this.address);
      } catch {
        // Already removed by someone else: nothing to clean up.
      }
    }
    const onClose = this.#onClose;
    this.#onClose = null;
    onClose?.();
  }

  /** `using listener = createListener(…)`: `close()`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** `await using listener = createListener(…)`: `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /** What `util.inspect` shows. */
  [inspect.custom](depth: number, options: InspectOptions): string {
    if (depth < 0) return '[Listener]';
    const state = { network: this.network, address: this.address, closed: this.#closed };
    return `Listener ${inspect(state, { ...options, depth: 0 })}`;
  }

  /** @internal Set by the EventLoop serving this listener. */
  setCloseHook(hook: (() => void) | null): void {
    if (this.#closed && hook !== null) throw closedError('listener');
    this.#onClose = hook;
  }
}

/**
 * Creates a listening socket: `createListener('tcp', '127.0.0.1:0')`, `('tcp', ':8080')`,
 * `('unix', '/tmp/app.sock')`. TCP hosts must be IP literals, `localhost` or empty (all
 * interfaces); `SO_REUSEADDR` is set. Throws `ERR_NETPOLL_INVALID_ARG` (bad network, e.g. `'udp'`,
 * or address), `ERR_NETPOLL_OUT_OF_RANGE`, or a {@link NetpollSystemError} (`EADDRINUSE`, …,
 * syscall `'listen'`).
 */
export function createListener(
  network: Network,
  address: string,
  options?: ListenerOptions,
): Listener {
  const checked = checkNetwork(network);
  const parsed = parseAddress(checked, address);
  const resolved = resolveListenerOptions(options);
  const reactor = getReactor();
  const host = parsed.network === 'unix' ? parsed.host : listenHost(parsed);
  reactor.countCall();
  const fd = reactor.binding.listen(
    familyOf(parsed, host),
    host,
    parsed.port,
    resolved.backlog,
    resolved.reusePort ? 1 : 0,
  );
  if (fd < 0) throw systemError(fd, 'listen', address);
  let bound = parsed.host;
  if (parsed.network === 'tcp') {
    reactor.countCall();
    const local = reactor.binding.address(fd, 0);
    bound = typeof local === 'string' ? local : address;
  }
  return new Listener(reactor, parsed.network, fd, bound, resolved.backlog);
}
