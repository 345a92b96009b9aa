/**
 * Options of connections, `dialConnection`, `createListener`, `configureReactor` and `shutdown`:
 * types, defaults and the one validation pass each; the `EventLoop` options
 * build on them in `./event-loop-options`. Nothing here runs on the hot path.
 */

import { signalOption } from './abort';
import { InvalidArgumentError } from './errors';
import { checkKnownKeys, integerOption, optionsObject, timeoutOption } from './option-checks';

/** Native length-header framing: the reactor reports only complete frames. */
export interface FramingOptions {
  /** Size of the big-endian length header in bytes: 1, 2 or 4. Default 4. */
  lengthHeader?: 1 | 2 | 4;
  /**
   * Largest payload a header may announce, in bytes (the header itself not included). A larger
   * header closes that connection with `ERR_NETPOLL_FRAME_TOO_LARGE` before anything is allocated
   * for the frame. Integer from 1 to 268435456 (256 MiB). Default 4194304 (4 MiB).
   */
  maxFrameSize?: number;
}

/** Resolved {@link FramingOptions}. */
export type ResolvedFramingOptions = Readonly<Required<FramingOptions>>;

/** Per-connection settings shared by servers and dialers. */
export interface ConnectionOptions {
  /** Read timeout of `reader.waitFor()`, in ms; 0 waits forever. Default 0. */
  readTimeout?: number;
  /**
   * Write timeout in ms: a connection whose unsent output stays under kernel backpressure for
   * longer is closed with `ERR_NETPOLL_WRITE_TIMEOUT`, at once (no lingering; the peer gets a
   * reset). 0 disables it. Default 0.
   */
  writeTimeout?: number;
  /**
   * TCP keep-alive in ms, as netpoll's `SetIdleTimeout`: idle = interval = ⌊ms / 1000⌋ s (at
   * most 32767 s, Linux's limit); under
   * 1000 it is a no-op; never closes idle connections. Ignored for Unix sockets. Default 0.
   */
  idleTimeout?: number;
  /** Native framing, or `null` for a plain byte stream. Default `null`. */
  framing?: FramingOptions | null;
  /**
   * Unsent output in bytes above which `connection.writable` turns false while the kernel
   * reports backpressure; `'drain'` follows when everything is sent. An accepted connection also
   * stops reading while that much is unsent (a peer that sends requests without reading the
   * replies gets TCP backpressure instead of growing the server's memory); a dialed connection
   * keeps reading. Default 1048576 (1 MiB).
   */
  highWaterMark?: number;
  /**
   * Unconsumed input in bytes at or above which the connection stops reading its socket (the peer
   * sees TCP backpressure) until the handler consumes some; a pending `reader.waitFor(n)` raises
   * it to `n`. With reading stopped at `highWaterMark` of unsent output too, one connection whose
   * peer sends without reading cannot take the reactor's inbound memory from the others.
   * Default 1048576 (1 MiB).
   */
  readHighWaterMark?: number;
  /**
   * How long a closed connection may keep its socket open to finish what its peer is owed, in
   * ms: output still queued, bytes the peer has not acknowledged, or unread input (closing with
   * unread input would make the kernel reset the connection, and the peer would lose replies it
   * had not read yet). Such a close writes the rest, shuts down the write side (the peer reads
   * EOF after the last byte), discards input, and closes the socket when the peer closes (or the
   * connection fails), or at this deadline — with a reset if output is still undelivered. 0
   * closes at once. Default 5000.
   */
  lingerTimeout?: number;
}

/** Resolved {@link ConnectionOptions}. */
export interface ResolvedConnectionOptions {
  readonly readTimeout: number;
  readonly writeTimeout: number;
  readonly idleTimeout: number;
  readonly framing: ResolvedFramingOptions | null;
  readonly highWaterMark: number;
  readonly readHighWaterMark: number;
  readonly lingerTimeout: number;
}

/** Options of `dialConnection(network, address, options)`. */
export interface DialOptions extends ConnectionOptions {
  /** Limit in ms for DNS lookup plus connect; 0 means none (netpoll: ≤ 0). Default 0. */
  timeout?: number;
  /**
   * Keeps the connection open after the peer closed its side (`'end'`), until `close()`: the
   * connection may still write. By default a dialed connection closes itself once the peer has
   * closed and its buffered input is consumed (read or released), like a server connection; its
   * close callbacks and `'close'` follow. Default false.
   */
  allowHalfOpen?: boolean;
  /**
   * Aborting it gives up the dial: the promise rejects with an `AbortError` (`code: 'ABORT_ERR'`,
   * `cause` = the reason) and the socket is closed. A connection already returned is not affected.
   */
  signal?: AbortSignal;
}

/** Resolved {@link DialOptions}. */
export interface ResolvedDialOptions extends ResolvedConnectionOptions {
  readonly timeout: number;
  readonly allowHalfOpen: boolean;
  readonly signal: AbortSignal | null;
}

/** Options of `createListener(network, address, options)`. */
export interface ListenerOptions {
  /** `listen()` backlog. Integer from 1 to 65535. Default 511 (Node's default). */
  backlog?: number;
  /**
   * Sets `SO_REUSEPORT` (TCP) so several listeners — typically one per worker thread, each with
   * its own reactor — share one port and the kernel spreads connections (Linux). Default false.
   */
  reusePort?: boolean;
}

/** Options of `configureReactor(options)`: memory of this thread's reactor. */
export interface ReactorOptions {
  /**
   * Size of each inbound slab allocated from now on, in bytes. Reads land in slabs, and a slab is
   * reused only when nothing references any of its bytes. With native framing, frames larger than
   * this get a slab of their own size (one is kept; ordinary reads prefer the smaller slabs).
   * Integer from 16384 to 268435456. Default 262144 (256 KiB).
   */
  inboundSlabSize?: number;
  /**
   * Cap on inbound slab memory, in bytes. While every slab is referenced (unconsumed input,
   * views, slices, echoed views not yet written) the reactor allocates another slab as long as
   * the total stays within this cap (and 1024 slabs). Beyond it, connections with data waiting
   * stop being read — the bytes stay in the kernel and the peer sees TCP backpressure — until
   * slab memory is released; `getReactorStats().readStalls` counts these pauses. The two slabs
   * allocated at start-up (and one per framing size) are always kept. Integer from 0 to
   * 2^53 − 1. Default 134217728 (128 MiB).
   */
  maxInboundMemory?: number;
}

/** Options of `eventLoop.shutdown(options)`. */
export interface ShutdownOptions {
  /**
   * How long running handlers may finish, in ms, before the remaining connections are closed.
   * Default 5000.
   */
  timeout?: number;
  /**
   * Aborting it cuts the graceful phase short, like the timeout: what is left is closed at once
   * and the promise rejects with an `AbortError` (`code: 'ABORT_ERR'`, `cause` = the reason).
   */
  signal?: AbortSignal;
}

/** What `eventLoop.shutdown()` resolves with. */
export interface ShutdownResult {
  /**
   * True when everything of the loop finished on its own. False when something was cut: a
   * handler or held work at the timeout, or output a close dropped (a lingering close cut at the
   * timeout or at `lingerTimeout`, a close at once with output the kernel never took).
   */
  readonly complete: boolean;
}

/** Resolved {@link ShutdownOptions}. */
export interface ResolvedShutdownOptions {
  readonly timeout: number;
  readonly signal: AbortSignal | null;
}

export const kDefaultFramingOptions: ResolvedFramingOptions = Object.freeze({
  lengthHeader: 4,
  maxFrameSize: 4 * 1024 * 1024,
});

export const kDefaultConnectionOptions: ResolvedConnectionOptions = Object.freeze({
  readTimeout: 0,
  writeTimeout: 0,
  idleTimeout: 0,
  framing: null,
  highWaterMark: 1024 * 1024,
  readHighWaterMark: 1024 * 1024,
  lingerTimeout: 5000,
});

export const kDefaultDialOptions: ResolvedDialOptions = Object.freeze({
  ...kDefaultConnectionOptions,
  timeout: 0,
  allowHalfOpen: false,
  signal: null,
});

export const kDefaultListenerOptions: Readonly<Required<ListenerOptions>> = Object.freeze({
  backlog: 511,
  reusePort: false,
});

export const kDefaultReactorOptions: Readonly<Required<ReactorOptions>> = Object.freeze({
  inboundSlabSize: 256 * 1024,
  maxInboundMemory: 128 * 1024 * 1024,
});

export const kDefaultShutdownOptions: ResolvedShutdownOptions = Object.freeze({
  timeout: 5000,
  signal: null,
});

const kMaxFrameSize = 256 * 1024 * 1024;

// The keys each resolver knows: exactly those of its defaults.
const kFramingKeys = Object.keys(kDefaultFramingOptions);
const kDialKeys = Object.keys(kDefaultDialOptions);
const kListenerKeys = Object.keys(kDefaultListenerOptions);
const kReactorKeys = Object.keys(kDefaultReactorOptions);
const kShutdownKeys = Object.keys(kDefaultShutdownOptions);

/** Validates {@link FramingOptions}; `null`/`undefined` disables framing. */
export function resolveFramingOptions(input: unknown, path: string): ResolvedFramingOptions | null {
  if (input === undefined || input === null) return null;
  const object = optionsObject(input, path);
  checkKnownKeys(object, kFramingKeys, path);
  const header = object.lengthHeader;
  if (header !== undefined && header !== 1 && header !== 2 && header !== 4) {
    throw new InvalidArgumentError(`${path}.lengthHeader`, '1, 2 or 4', header);
  }
  const lengthHeader = (header ?? kDefaultFramingOptions.lengthHeader) as 1 | 2 | 4;
  const headerLimit = lengthHeader === 4 ? kMaxFrameSize : 2 ** (8 * lengthHeader) - 1;
  return Object.freeze({
    lengthHeader,
    maxFrameSize: integerOption(
      object.maxFrameSize,
      `${path}.maxFrameSize`,
      1,
      headerLimit,
      Math.min(kDefaultFramingOptions.maxFrameSize, headerLimit),
    ),
  });
}

export function resolveConnectionFields(
  object: Record<string, unknown>,
  path: string,
): ResolvedConnectionOptions {
  const defaults = kDefaultConnectionOptions;
  return {
    readTimeout: timeoutOption(object.readTimeout, `${path}.readTimeout`, defaults.readTimeout),
    writeTimeout: timeoutOption(object.writeTimeout, `${path}.writeTimeout`, defaults.writeTimeout),
    idleTimeout: timeoutOption(object.idleTimeout, `${path}.idleTimeout`, defaults.idleTimeout),
    framing: resolveFramingOptions(object.framing, `${path}.framing`),
    highWaterMark: integerOption(
      object.highWaterMark,
      `${path}.highWaterMark`,
      1,
      2 ** 31 - 1,
      defaults.highWaterMark,
    ),
    readHighWaterMark: integerOption(
      object.readHighWaterMark,
      `${path}.readHighWaterMark`,
      1,
      2 ** 31 - 1,
      defaults.readHighWaterMark,
    ),
    lingerTimeout: timeoutOption(
      object.lingerTimeout,
      `${path}.lingerTimeout`,
      defaults.lingerTimeout,
    ),
  };
}

/** Validates `dialConnection()` options once. */
export function resolveDialOptions(input: unknown): ResolvedDialOptions {
  const object = optionsObject(input, 'options');
  checkKnownKeys(object, kDialKeys, 'options');
  const allowHalfOpen = object.allowHalfOpen ?? false;
  if (typeof allowHalfOpen !== 'boolean') {
    throw new InvalidArgumentError('options.allowHalfOpen', 'a boolean', allowHalfOpen);
  }
  return Object.freeze({
    ...resolveConnectionFields(object, 'options'),
    timeout: timeoutOption(object.timeout, 'options.timeout', kDefaultDialOptions.timeout),
    allowHalfOpen,
    signal: signalOption(object.signal, 'options.signal'),
  });
}

/** Validates `createListener()` options once. */
export function resolveListenerOptions(input: unknown): Readonly<Required<ListenerOptions>> {
  const object = optionsObject(input, 'options');
  checkKnownKeys(object, kListenerKeys, 'options');
  const reusePort = object.reusePort ?? kDefaultListenerOptions.reusePort;
  if (typeof reusePort !== 'boolean') {
    throw new InvalidArgumentError('options.reusePort', 'a boolean', reusePort);
  }
  return Object.freeze({
    backlog: integerOption(
      object.backlog,
      'options.backlog',
      1,
      65535,
      kDefaultListenerOptions.backlog,
    ),
    reusePort,
  });
}

/** Validates `configureReactor()` options once. */
export function resolveReactorOptions(input: unknown): Readonly<Required<ReactorOptions>> {
  const object = optionsObject(input, 'options');
  checkKnownKeys(object, kReactorKeys, 'options');
  const defaults = kDefaultReactorOptions;
  return Object.freeze({
    inboundSlabSize: integerOption(
      object.inboundSlabSize,
      'options.inboundSlabSize',
      16 * 1024,
      kMaxFrameSize,
      defaults.inboundSlabSize,
    ),
    maxInboundMemory: integerOption(
      object.maxInboundMemory,
      'options.maxInboundMemory',
      0,
      Number.MAX_SAFE_INTEGER,
      defaults.maxInboundMemory,
    ),
  });
}

/** Validates `shutdown()` options. */
export function resolveShutdownOptions(input: unknown): ResolvedShutdownOptions {
  const object = optionsObject(input, 'options');
  checkKnownKeys(object, kShutdownKeys, 'options');
  return Object.freeze({
    timeout: timeoutOption(object.timeout, 'options.timeout', kDefaultShutdownOptions.timeout),
    signal: signalOption(object.signal, 'options.signal'),
  });
}
