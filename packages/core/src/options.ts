/**
 * Options of `EventLoop`, `dialConnection`, `createListener` and `shutdown`: types, defaults and
 * the one validation pass each (house style B.6). Nothing here runs on the hot path.
 */
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Connection } from './connection';
import { InvalidArgumentError } from './errors';
import { callbackOption, integerOption, optionsObject } from './option-checks';

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
   * longer is closed with `ERR_NETPOLL_WRITE_TIMEOUT`. 0 disables it. Default 0.
   */
  writeTimeout?: number;
  /**
   * TCP keep-alive in ms, as netpoll's `SetIdleTimeout`: idle = interval = ⌊ms / 1000⌋ s; under
   * 1000 it is a no-op; never closes idle connections. Ignored for Unix sockets. Default 0.
   */
  idleTimeout?: number;
  /** Native framing, or `null` for a plain byte stream. Default `null`. */
  framing?: FramingOptions | null;
  /**
   * Unsent output in bytes above which `connection.writable` turns false while the kernel
   * reports backpressure; `'drain'` follows when everything is sent. Default 1048576 (1 MiB).
   */
  highWaterMark?: number;
}

/** Callback types of {@link EventLoopOptions}. */
export type OnPrepare = (connection: Connection) => unknown;
export type OnConnect = (connection: Connection, context: unknown) => unknown;
export type OnRequest = (connection: Connection, context: unknown) => unknown;
export type OnDisconnect = (connection: Connection, context: unknown) => void;
export type OnError = (error: Error, connection: Connection | null) => void;

/** Options of `new EventLoop(onRequest, options)`. */
export interface EventLoopOptions extends ConnectionOptions {
  /**
   * Runs synchronously when a connection is accepted, before it is read; it may close it (then no
   * other callback runs). Its return value becomes the connection context. Default none.
   */
  onPrepare?: OnPrepare | null;
  /**
   * Runs once per connection before any `onRequest`; may be async. Its (awaited) return value
   * replaces the context. Default none.
   */
  onConnect?: OnConnect | null;
  /** Runs exactly once when the peer closes or fails (never for a local `close()`). Default none. */
  onDisconnect?: OnDisconnect | null;
  /**
   * Receives errors no caller can receive: a throwing/rejecting callback (its connection is
   * closed), an oversized frame, an accept failure. Default: writes to `console.error`.
   */
  onError?: OnError | null;
  /**
   * Number of reactors, each on its own `worker_thread` with its own epoll/kqueue fd, slabs and
   * handler instance (see README "Multi-core"). Integer from 1 to 256. Default 1: without a
   * `handler`, the loop runs in the calling thread exactly as a single reactor; with a `handler`,
   * `reactors: 1` runs one worker. Values above 1 require `handler`.
   */
  reactors?: number;
  /**
   * The handler module the worker reactors load (an absolute path, or a `file:` URL as a string
   * or `URL`). It exports `onRequest` and optionally `onPrepare`, `onConnect`, `onDisconnect` and
   * `onError` (named exports, or properties of the default export). When set, the callbacks
   * cannot be passed as functions: they live in the module. Default none.
   */
  handler?: string | URL | null;
}

/** Resolved {@link EventLoopOptions}. */
export interface ResolvedEventLoopOptions extends ResolvedConnectionOptions {
  readonly onPrepare: OnPrepare | null;
  readonly onConnect: OnConnect | null;
  readonly onDisconnect: OnDisconnect | null;
  readonly onError: OnError;
  readonly reactors: number;
  /** The handler module as an absolute path, or `null` (callbacks run in the calling thread). */
  readonly handler: string | null;
}

/** Resolved {@link ConnectionOptions}. */
export interface ResolvedConnectionOptions {
  readonly readTimeout: number;
  readonly writeTimeout: number;
  readonly idleTimeout: number;
  readonly framing: ResolvedFramingOptions | null;
  readonly highWaterMark: number;
}

/** Options of `dialConnection(network, address, options)`. */
export interface DialOptions extends ConnectionOptions {
  /** Limit in ms for DNS lookup plus connect; 0 means none (netpoll: ≤ 0). Default 0. */
  timeout?: number;
}

/** Resolved {@link DialOptions}. */
export interface ResolvedDialOptions extends ResolvedConnectionOptions {
  readonly timeout: number;
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
   * the total stays within this cap (and 512 slabs). Beyond it, connections with data waiting
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
}

function defaultOnError(error: Error, connection: Connection | null): void {
  const where = connection === null ? '' : ` (${connection.remoteAddress})`;
  console.error(`@netpoll/core: ${error.name}${where}:`, error);
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
});

export const kDefaultEventLoopOptions: ResolvedEventLoopOptions = Object.freeze({
  ...kDefaultConnectionOptions,
  onPrepare: null,
  onConnect: null,
  onDisconnect: null,
  onError: defaultOnError,
  reactors: 1,
  handler: null,
});

export const kDefaultDialOptions: ResolvedDialOptions = Object.freeze({
  ...kDefaultConnectionOptions,
  timeout: 0,
});

export const kDefaultListenerOptions: Readonly<Required<ListenerOptions>> = Object.freeze({
  backlog: 511,
  reusePort: false,
});

export const kDefaultReactorOptions: Readonly<Required<ReactorOptions>> = Object.freeze({
  inboundSlabSize: 256 * 1024,
  maxInboundMemory: 128 * 1024 * 1024,
});

export const kDefaultShutdownOptions: Readonly<Required<ShutdownOptions>> = Object.freeze({
  timeout: 5000,
});

const kMaxTimeout = 2 ** 31 - 1;
const kMaxFrameSize = 256 * 1024 * 1024;

/** Validates {@link FramingOptions}; `null`/`undefined` disables framing. */
export function resolveFramingOptions(input: unknown, path: string): ResolvedFramingOptions | null {
  if (input === undefined || input === null) return null;
  const object = optionsObject(input, path);
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

function resolveConnectionFields(
  object: Record<string, unknown>,
  path: string,
): ResolvedConnectionOptions {
  const defaults = kDefaultConnectionOptions;
  return {
    readTimeout: integerOption(
      object.readTimeout,
      `${path}.readTimeout`,
      0,
      kMaxTimeout,
      defaults.readTimeout,
    ),
    writeTimeout: integerOption(
      object.writeTimeout,
      `${path}.writeTimeout`,
      0,
      kMaxTimeout,
      defaults.writeTimeout,
    ),
    idleTimeout: integerOption(
      object.idleTimeout,
      `${path}.idleTimeout`,
      0,
      kMaxTimeout,
      defaults.idleTimeout,
    ),
    framing: resolveFramingOptions(object.framing, `${path}.framing`),
    highWaterMark: integerOption(
      object.highWaterMark,
      `${path}.highWaterMark`,
      1,
      2 ** 31 - 1,
      defaults.highWaterMark,
    ),
  };
}

const kMaxReactors = 256;
const kCallbackOptions = ['onPrepare', 'onConnect', 'onDisconnect', 'onError'] as const;

/** An absolute path or `file:` URL (string or URL) → an absolute path; `null` when absent. */
function handlerOption(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const expected = 'an absolute path or a file: URL of the handler module';
  if (value instanceof URL || (typeof value === 'string' && value.startsWith('file:'))) {
    try {
      return fileURLToPath(value);
    } catch {
      throw new InvalidArgumentError('options.handler', expected, value);
    }
  }
  if (typeof value !== 'string' || !isAbsolute(value)) {
    throw new InvalidArgumentError('options.handler', expected, value);
  }
  return value;
}

/**
 * Validates `new EventLoop()` options once; throws `ERR_NETPOLL_INVALID_ARG`/`_OUT_OF_RANGE`.
 * With a `handler`, the callbacks must come from the module, so function options are refused.
 */
export function resolveEventLoopOptions(input: unknown): ResolvedEventLoopOptions {
  const object = optionsObject(input, 'options');
  const reactors = integerOption(object.reactors, 'options.reactors', 1, kMaxReactors, 1);
  const handler = handlerOption(object.handler);
  if (reactors > 1 && handler === null) {
    throw new InvalidArgumentError(
      'options.handler',
      'the handler module (absolute path or file: URL) when options.reactors > 1',
      object.handler,
    );
  }
  if (handler !== null) {
    for (const name of kCallbackOptions) {
      if (object[name] === undefined || object[name] === null) continue;
      throw new InvalidArgumentError(
        `options.${name}`,
        'exported by the handler module instead when options.handler is set (each reactor ' +
          'thread loads its own copy)',
        object[name],
      );
    }
  }
  return Object.freeze({
    ...resolveConnectionFields(object, 'options'),
    onPrepare: callbackOption<OnPrepare>(object.onPrepare, 'options.onPrepare'),
    onConnect: callbackOption<OnConnect>(object.onConnect, 'options.onConnect'),
    onDisconnect: callbackOption<OnDisconnect>(object.onDisconnect, 'options.onDisconnect'),
    onError:
      callbackOption<OnError>(object.onError, 'options.onError') ??
      kDefaultEventLoopOptions.onError,
    reactors,
    handler,
  });
}

/**
 * Checks the `onRequest` argument of `new EventLoop(onRequest, options)` against the resolved
 * options: a function or `null`/`undefined`, and `null`/`undefined` when a handler module is set.
 */
export function checkOnRequestArgument(
  onRequest: unknown,
  options: ResolvedEventLoopOptions,
): OnRequest | null {
  if (onRequest === null || onRequest === undefined) return null;
  if (options.handler !== null) {
    throw new InvalidArgumentError(
      'onRequest',
      'null when options.handler is set (export onRequest from the handler module instead)',
      onRequest,
    );
  }
  if (typeof onRequest !== 'function') {
    throw new InvalidArgumentError('onRequest', 'a function or null', onRequest);
  }
  return onRequest as OnRequest;
}

/** Validates `dialConnection()` options once. */
export function resolveDialOptions(input: unknown): ResolvedDialOptions {
  const object = optionsObject(input, 'options');
  return Object.freeze({
    ...resolveConnectionFields(object, 'options'),
    timeout: integerOption(object.timeout, 'options.timeout', 0, kMaxTimeout, 0),
  });
}

/** Validates `createListener()` options once. */
export function resolveListenerOptions(input: unknown): Readonly<Required<ListenerOptions>> {
  const object = optionsObject(input, 'options');
  const reusePort = object.reusePort ?? false;
  if (typeof reusePort !== 'boolean') {
    throw new InvalidArgumentError('options.reusePort', 'a boolean', reusePort);
  }
  return Object.freeze({
    backlog: integerOption(object.backlog, 'options.backlog', 1, 65535, 511),
    reusePort,
  });
}

/** Validates `configureReactor()` options once. */
export function resolveReactorOptions(input: unknown): Readonly<Required<ReactorOptions>> {
  const object = optionsObject(input, 'options');
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
export function resolveShutdownOptions(input: unknown): Readonly<Required<ShutdownOptions>> {
  const object = optionsObject(input, 'options');
  return Object.freeze({
    timeout: integerOption(object.timeout, 'options.timeout', 0, kMaxTimeout, 5000),
  });
}
