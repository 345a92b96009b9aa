/**
 * Options of servers, clients and calls: types, defaults and the one validation pass each (house
 * style: validated once, at construction; a key no option has is refused, naming the close
 * match). Nothing here runs per call except {@link checkCallOptions}, which does a few type
 * checks only when options are given.
 */
import { Buffer } from 'node:buffer';
import { InvalidArgumentError, OutOfRangeError } from './errors';
import type { Metadata } from './protocol/encode';
import type { LengthHeader } from './protocol/frame';
import { resolveSerializer, type Serializer, type SerializerOption } from './serializers';

const kMaxTimeout = 2 ** 31 - 1;
const kMaxFrameLimit = 256 * 1024 * 1024;
/** Room for any error the server answers by itself (`DEADLINE_EXCEEDED` and a short message). */
const kMinFrameSize = 64;

// ---- checks -----------------------------------------------------------------------------------

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** `input` as a record: `undefined` gives `{}`, anything but a plain object throws. */
function optionsObject(input: unknown, path: string): Record<string, unknown> {
  if (input === undefined) return {};
  if (!isPlainObject(input)) throw new InvalidArgumentError(path, 'a plain object', input);
  return input;
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * Refuses keys of `input` that are not in `known`: `ERR_NETPOLL_INVALID_ARG`,
 * `options.timout is not a known option (did you mean timeout?)` (the closest key equal ignoring
 * case or within max(2, ⌊length / 3⌋) edits; no parenthesis when none is that close).
 */
function checkKnownKeys(input: object, known: readonly string[], path: string): void {
  for (const key of Object.keys(input)) {
    if (known.includes(key)) continue;
    let best: string | null = null;
    let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
    for (const candidate of known) {
      const distance =
        candidate.toLowerCase() === key.toLowerCase() ? 0 : levenshtein(key, candidate);
      if (distance < bestDistance) {
        best = candidate;
        bestDistance = distance;
      }
    }
    const message = `${path}.${key} is not a known option${best === null ? '' : ` (did you mean ${best}?)`}`;
    throw new InvalidArgumentError(`${path}.${key}`, 'a known option', undefined, message);
  }
}

/** An integer in [min, max]; `undefined` gives `fallback`. */
function integerOption(
  value: unknown,
  path: string,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new InvalidArgumentError(path, 'an integer', value);
  }
  if (value < min || value > max) {
    throw new OutOfRangeError(path, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

/** A timeout in ms, 0 to 2147483647; `undefined` gives `fallback`. */
export function timeoutOption(value: unknown, path: string, fallback: number): number {
  return integerOption(value, path, 0, kMaxTimeout, fallback);
}

function booleanOption(value: unknown, path: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidArgumentError(path, 'a boolean', value);
  return value;
}

function choiceOption<T extends string>(
  value: unknown,
  path: string,
  choices: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!choices.includes(value as T)) {
    throw new InvalidArgumentError(
      path,
      choices.map((choice) => `'${choice}'`).join(' or '),
      value,
    );
  }
  return value as T;
}

function lengthHeaderOption(value: unknown, path: string): LengthHeader {
  if (value === undefined) return 4;
  if (value !== 1 && value !== 2 && value !== 4)
    throw new InvalidArgumentError(path, '1, 2 or 4', value);
  return value;
}

/** `maxFrameSize`, bounded by what the length header can express. */
function maxFrameSizeOption(value: unknown, path: string, lengthHeader: LengthHeader): number {
  const limit = lengthHeader === 4 ? kMaxFrameLimit : 2 ** (8 * lengthHeader) - 1;
  return integerOption(value, path, kMinFrameSize, limit, Math.min(4 * 1024 * 1024, limit));
}

// ---- shared wire settings ---------------------------------------------------------------------

/** Settings both ends of a connection must agree on. */
export interface WireOptions {
  /** Size of each frame's big-endian length header: 1, 2 or 4 bytes. Default 4. */
  lengthHeader?: LengthHeader;
  /**
   * Largest message body accepted or sent, in bytes (at most 256 MiB, and what the length header
   * can express). A larger incoming frame closes its connection before anything is buffered; a
   * larger outgoing message fails with `ERR_NETPOLL_RPC_FRAME_TOO_LARGE`. Default 4 MiB.
   */
  maxFrameSize?: number;
  /**
   * How payloads become bytes: `'raw'` (Buffers), `'json'`, or an object with `encode` and
   * `decode` (see `Serializer`). Default `'raw'`.
   */
  serializer?: SerializerOption;
}

interface ResolvedWireOptions {
  readonly lengthHeader: LengthHeader;
  readonly maxFrameSize: number;
  readonly serializer: Serializer<unknown>;
}

function resolveWire(object: Record<string, unknown>, path: string): ResolvedWireOptions {
  const lengthHeader = lengthHeaderOption(object.lengthHeader, `${path}.lengthHeader`);
  return {
    lengthHeader,
    maxFrameSize: maxFrameSizeOption(object.maxFrameSize, `${path}.maxFrameSize`, lengthHeader),
    serializer: resolveSerializer(object.serializer, `${path}.serializer`),
  };
}

// ---- server -----------------------------------------------------------------------------------

/** Options of `createServer(service, options)`. */
export interface ServerOptions extends WireOptions {
  /**
   * Calls one connection may run at once. Beyond it the connection stops reading (TCP
   * backpressure) until calls finish: no queue without bound. Integer 1–65535. Default 1000.
   */
  maxConcurrentCalls?: number;
  /**
   * While a connection is held at `maxConcurrentCalls` it is not read, so a client's PING behind
   * its waiting requests goes unanswered: the server then pings the client this often (ms), which
   * shows the client's liveness check (`pingInterval` + `pingTimeout`) that the server is alive
   * and only busy. 0: never. Default 1000.
   */
  pausedPingInterval?: number;
  /**
   * Answer a handler's unexpected error (anything but an `RpcStatus`) with its message; by
   * default the client gets `INTERNAL` with a generic message. Default false.
   */
  exposeErrors?: boolean;
  /**
   * Reactors, one per worker thread, each loading the service module (the service must then be
   * given as a module path, see README "Multi-core"). Integer 1–256. Default 1: the server runs
   * in the calling thread (unless the service is a module path).
   */
  reactors?: number;
  /** Graceful `close()`'s default timeout in ms. Default 5000. */
  shutdownTimeout?: number;
  /** TCP keep-alive of accepted connections in ms (see `@netpoll/core` `idleTimeout`). Default 0. */
  idleTimeout?: number;
  /**
   * ms a connection's replies may wait without a byte going out — a client that stopped reading
   * them — before the connection is closed (its running calls see
   * `CONNECTION_CLOSED`); see `@netpoll/core` `writeTimeout`. 0: never. Default 0.
   */
  writeTimeout?: number;
  /** `listen()` backlog. Integer 1–65535. Default 511. */
  backlog?: number;
}

/** Resolved {@link ServerOptions}. */
export interface ResolvedServerOptions extends ResolvedWireOptions {
  readonly maxConcurrentCalls: number;
  readonly pausedPingInterval: number;
  readonly exposeErrors: boolean;
  readonly reactors: number;
  readonly shutdownTimeout: number;
  readonly idleTimeout: number;
  readonly writeTimeout: number;
  readonly backlog: number;
}

const kServerKeys = [
  'lengthHeader',
  'maxFrameSize',
  'serializer',
  'maxConcurrentCalls',
  'pausedPingInterval',
  'exposeErrors',
  'reactors',
  'shutdownTimeout',
  'idleTimeout',
  'writeTimeout',
  'backlog',
];

/** Validates `createServer()` options once. */
export function resolveServerOptions(input: unknown): ResolvedServerOptions {
  const object = optionsObject(input, 'options');
  checkKnownKeys(object, kServerKeys, 'options');
  return Object.freeze({
    ...resolveWire(object, 'options'),
    maxConcurrentCalls: integerOption(
      object.maxConcurrentCalls,
      'options.maxConcurrentCalls',
      1,
      65535,
      1000,
    ),
    pausedPingInterval: timeoutOption(
      object.pausedPingInterval,
      'options.pausedPingInterval',
      1000,
    ),
    exposeErrors: booleanOption(object.exposeErrors, 'options.exposeErrors', false),
    reactors: integerOption(object.reactors, 'options.reactors', 1, 256, 1),
    shutdownTimeout: timeoutOption(object.shutdownTimeout, 'options.shutdownTimeout', 5000),
    idleTimeout: timeoutOption(object.idleTimeout, 'options.idleTimeout', 0),
    writeTimeout: timeoutOption(object.writeTimeout, 'options.writeTimeout', 0),
    backlog: integerOption(object.backlog, 'options.backlog', 1, 65535, 511),
  });
}

// ---- client -----------------------------------------------------------------------------------

/** The pool transport's limits (`transport: 'pool'`). */
export interface PoolOptions {
  /** Connections per endpoint in use at once (one call each). Integer 1–65535. Default 100. */
  maxActive?: number;
  /**
   * Idle connections kept per endpoint (more are closed as they come back). Integer 0–65535.
   * Default 100, as `maxActive`: with fewer, a steady load that uses more connections than this
   * closes and re-dials connections all the time; idle ones age out by `maxIdleTime` instead.
   */
  maxIdle?: number;
  /** An idle connection unused this long (ms) is closed. Default 30000; 0 keeps them. */
  maxIdleTime?: number;
  /**
   * How long a call waits for a free connection when `maxActive` are busy, in ms; then it fails
   * with `ERR_NETPOLL_RPC_POOL_EXHAUSTED`. Default 1000.
   */
  acquireTimeout?: number;
}

/** Options of `createClient(target, options)`. */
export interface ClientOptions extends WireOptions {
  /**
   * `'mux'`: a few connections per endpoint, many calls in flight on each, matched by sequence
   * number, the requests of one tick sent with one flush. `'pool'`: one call per connection at a
   * time, from a pool that checks each connection is alive when it is taken. Default `'mux'`.
   */
  transport?: 'mux' | 'pool';
  /** `'mux'`: connections per endpoint. Integer 1–256. Default 4. */
  connections?: number;
  /** `'pool'`: its limits. */
  pool?: PoolOptions;
  /** Default call timeout in ms (sent to the server as the deadline); 0 = none. Default 10000. */
  timeout?: number;
  /** Limit for DNS lookup plus connect, in ms. Default 5000. */
  dialTimeout?: number;
  /**
   * A connection that received nothing for this long (ms) is pinged; 0 disables pings. Default
   * 5000.
   */
  pingInterval?: number;
  /**
   * A connection whose ping gets no pong within this many ms is considered dead: it is closed
   * and its calls fail with `ERR_NETPOLL_RPC_UNAVAILABLE`, so a hung (stopped) server is noticed
   * without waiting for every call's deadline. Default 2000.
   */
  pingTimeout?: number;
  /** `'round-robin'` or `'least-pending'` (power of two choices). Default `'round-robin'`. */
  balancer?: 'round-robin' | 'least-pending';
  /** First re-dial delay after a failed dial, in ms (doubling, with jitter). Default 100. */
  backoffInitial?: number;
  /** Longest re-dial delay, in ms. Default 10000. */
  backoffMax?: number;
  /** Consecutive dial failures after which an endpoint gets no calls until a dial works. Default 3. */
  ejectAfter?: number;
}

/** Resolved {@link PoolOptions}. */
export type ResolvedPoolOptions = Readonly<Required<PoolOptions>>;

/** Resolved {@link ClientOptions}. */
export interface ResolvedClientOptions extends ResolvedWireOptions {
  readonly transport: 'mux' | 'pool';
  readonly connections: number;
  readonly pool: ResolvedPoolOptions;
  readonly timeout: number;
  readonly dialTimeout: number;
  readonly pingInterval: number;
  readonly pingTimeout: number;
  readonly balancer: 'round-robin' | 'least-pending';
  readonly backoffInitial: number;
  readonly backoffMax: number;
  readonly ejectAfter: number;
}

const kClientKeys = [
  'lengthHeader',
  'maxFrameSize',
  'serializer',
  'transport',
  'connections',
  'pool',
  'timeout',
  'dialTimeout',
  'pingInterval',
  'pingTimeout',
  'balancer',
  'backoffInitial',
  'backoffMax',
  'ejectAfter',
];
const kPoolKeys = ['maxActive', 'maxIdle', 'maxIdleTime', 'acquireTimeout'];

/** Validates `createClient()` options once. */
export function resolveClientOptions(input: unknown): ResolvedClientOptions {
  const object = optionsObject(input, 'options');
  checkKnownKeys(object, kClientKeys, 'options');
  const pool = optionsObject(object.pool, 'options.pool');
  checkKnownKeys(pool, kPoolKeys, 'options.pool');
  const backoffInitial = timeoutOption(object.backoffInitial, 'options.backoffInitial', 100);
  return Object.freeze({
    ...resolveWire(object, 'options'),
    transport: choiceOption(object.transport, 'options.transport', ['mux', 'pool'], 'mux'),
    connections: integerOption(object.connections, 'options.connections', 1, 256, 4),
    pool: Object.freeze({
      maxActive: integerOption(pool.maxActive, 'options.pool.maxActive', 1, 65535, 100),
      maxIdle: integerOption(pool.maxIdle, 'options.pool.maxIdle', 0, 65535, 100),
      maxIdleTime: timeoutOption(pool.maxIdleTime, 'options.pool.maxIdleTime', 30000),
      acquireTimeout: timeoutOption(pool.acquireTimeout, 'options.pool.acquireTimeout', 1000),
    }),
    timeout: timeoutOption(object.timeout, 'options.timeout', 10000),
    dialTimeout: timeoutOption(object.dialTimeout, 'options.dialTimeout', 5000),
    pingInterval: timeoutOption(object.pingInterval, 'options.pingInterval', 5000),
    pingTimeout: integerOption(object.pingTimeout, 'options.pingTimeout', 1, kMaxTimeout, 2000),
    balancer: choiceOption(
      object.balancer,
      'options.balancer',
      ['round-robin', 'least-pending'],
      'round-robin',
    ),
    backoffInitial,
    backoffMax: integerOption(
      object.backoffMax,
      'options.backoffMax',
      backoffInitial,
      kMaxTimeout,
      Math.max(10000, backoffInitial),
    ),
    ejectAfter: integerOption(object.ejectAfter, 'options.ejectAfter', 1, 1000, 3),
  });
}

// ---- calls ------------------------------------------------------------------------------------

/** Options of one call. */
export interface CallOptions {
  /** ms until the call fails with `ERR_NETPOLL_RPC_TIMEOUT`; 0 = none. Default: the client's. */
  timeout?: number;
  /** Aborting it fails the call with `ERR_NETPOLL_RPC_CANCELED` and tells the server. */
  signal?: AbortSignal;
  /** String key/value pairs sent with the request (`traceparent`, auth tokens…). */
  metadata?: Metadata;
  /**
   * The method may run twice safely: a call whose connection failed after it was written is
   * tried once more elsewhere. Calls never written are always retried. Default false.
   */
  idempotent?: boolean;
  /**
   * Raw serializer only: the reply is copied into this Buffer and the call resolves with the
   * part it fills (`into` itself, or a `subarray` of it), so a caller that reuses one Buffer
   * allocates no memory for its replies. A reply longer than `into` comes in a new Buffer.
   * Written only by the reply, before the call resolves; one call in flight per Buffer.
   */
  into?: Buffer;
}

const kDnsKeys = ['interval', 'family'];

/** `dnsResolver`'s options, checked: `interval` in ms (100 to 2147483647), `family` 0, 4 or 6. */
export function resolveDnsOptions(input: unknown): { interval: number; family: 0 | 4 | 6 } {
  const object = optionsObject(input, 'options');
  checkKnownKeys(object, kDnsKeys, 'options');
  const family = object.family ?? 0;
  if (family !== 0 && family !== 4 && family !== 6) {
    throw new InvalidArgumentError('options.family', '0, 4 or 6', family);
  }
  return {
    interval: integerOption(object.interval, 'options.interval', 100, kMaxTimeout, 30000),
    family,
  };
}

const kCallKeys = ['timeout', 'signal', 'metadata', 'idempotent', 'into'];

/**
 * Checks call options (only when given). Per call, so one pass over the keys that are there,
 * allocating nothing; an unknown key gets the usual message from checkKnownKeys.
 */
export function checkCallOptions(options: CallOptions): void {
  if (!isPlainObject(options)) throw new InvalidArgumentError('options', 'a plain object', options);
  for (const key in options) {
    switch (key) {
      case 'timeout':
        timeoutOption(options.timeout, 'options.timeout', 0);
        break;
      case 'signal':
        if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
          throw new InvalidArgumentError('options.signal', 'an AbortSignal', options.signal);
        }
        break;
      case 'idempotent':
        booleanOption(options.idempotent, 'options.idempotent', false);
        break;
      case 'into':
        if (options.into !== undefined && !Buffer.isBuffer(options.into)) {
          throw new InvalidArgumentError('options.into', 'a Buffer', options.into);
        }
        break;
      case 'metadata':
        break; // checked as it is encoded
      default:
        checkKnownKeys(options, kCallKeys, 'options');
    }
  }
}
