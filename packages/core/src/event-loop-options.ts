/**
 * Options of `new EventLoop(onRequest, options)`: the callback types, the multi-reactor options,
 * defaults and the one validation pass, on top of the connection options of
 * `./options`. Nothing here runs on the hot path.
 */
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Connection } from './connection';
import { InvalidArgumentError } from './errors';
import { callbackOption, checkKnownKeys, integerOption, optionsObject } from './option-checks';
import {
  type ConnectionOptions,
  kDefaultConnectionOptions,
  type ResolvedConnectionOptions,
  resolveConnectionFields,
} from './options';

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
  /**
   * A value for the handler module (anything `structuredClone` can copy): each reactor calls the
   * module's optional `init(handlerData)` export, and awaits it, before it serves. It lets one
   * generic handler module serve what the loop's creator configured (`@netpoll/rpc` passes its
   * service module this way). Only with `handler`. Default `undefined`.
   */
  handlerData?: unknown;
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
  readonly handlerData: unknown;
}

function defaultOnError(error: Error, connection: Connection | null): void {
  const where = connection === null ? '' : ` (${connection.remoteAddress})`;
  console.error(`@netpoll/core: ${error.name}${where}:`, error);
}

export const kDefaultEventLoopOptions: ResolvedEventLoopOptions = Object.freeze({
  ...kDefaultConnectionOptions,
  onPrepare: null,
  onConnect: null,
  onDisconnect: null,
  onError: defaultOnError,
  reactors: 1,
  handler: null,
  handlerData: undefined,
});

const kMaxReactors = 256;
const kEventLoopKeys = Object.keys(kDefaultEventLoopOptions);
/** The optional callbacks, as options and as a handler module's exports. */
export const kCallbackOptions = ['onPrepare', 'onConnect', 'onDisconnect', 'onError'] as const;

/**
 * An absolute path or `file:` URL (string or URL) → an absolute path; `null` when absent. A path
 * with a NUL byte (also `%00` in a URL) can name no file, so it is refused here rather than when
 * the reactors fail to load it.
 */
function handlerOption(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const expected = 'an absolute path or a file: URL of the handler module';
  let path: string;
  if (value instanceof URL || (typeof value === 'string' && value.startsWith('file:'))) {
    try {
      path = fileURLToPath(value);
    } catch {
      throw new InvalidArgumentError('options.handler', expected, value);
    }
  } else if (typeof value !== 'string' || !isAbsolute(value)) {
    throw new InvalidArgumentError('options.handler', expected, value);
  } else {
    path = value;
  }
  if (path.includes('\0')) {
    throw new InvalidArgumentError('options.handler', `${expected}, without NUL bytes`, value);
  }
  return path;
}

/**
 * Validates `new EventLoop()` options once; throws `ERR_NETPOLL_INVALID_ARG`/`_OUT_OF_RANGE`.
 * With a `handler`, the callbacks must come from the module, so function options are refused.
 */
export function resolveEventLoopOptions(input: unknown): ResolvedEventLoopOptions {
  const object = optionsObject(input, 'options');
  checkKnownKeys(object, kEventLoopKeys, 'options');
  const reactors = integerOption(object.reactors, 'options.reactors', 1, kMaxReactors, 1);
  const handler = handlerOption(object.handler);
  if (reactors > 1 && handler === null) {
    throw new InvalidArgumentError(
      'options.handler',
      'the handler module (absolute path or file: URL) when options.reactors > 1',
      object.handler,
    );
  }
  if (handler === null && object.handlerData !== undefined) {
    throw new InvalidArgumentError(
      'options.handlerData',
      'undefined unless options.handler is set (it is passed to the handler module)',
      object.handlerData,
    );
  }
  if (handler !== null) {
    try {
      structuredClone(object.handlerData);
    } catch {
      throw new InvalidArgumentError(
        'options.handlerData',
        'a value structuredClone can copy (it goes to every reactor thread)',
        object.handlerData,
      );
    }
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
    handlerData: object.handlerData,
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
