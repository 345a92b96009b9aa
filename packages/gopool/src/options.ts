/**
 * Options of the event-loop `Pool` and of `WorkerPool`: interfaces with the meaning, unit
 * and default of every field, frozen defaults, and the resolvers that validate an input
 * once, at construction. Nothing here runs on a hot path.
 */
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
import { InvalidArgumentError, OutOfRangeError } from './errors';
import { checkKnownKeys } from './option-keys';

/** Called when a task of an event-loop `Pool` throws or rejects. */
export type PanicHandler = (error: unknown, ctx: unknown) => void;

/** Receives the report of a failed task when a `Pool` has no panic handler. */
export type PoolLogger = (message: string, error: unknown, ctx: unknown) => void;

/** Options of `new Pool(name, options)`. */
export interface PoolOptions {
  /**
   * How many tasks may run at once (gopool's "workers"). A positive integer.
   * Default: 2147483647 (gopool's `math.MaxInt32`, effectively unbounded).
   */
  cap?: number;
  /**
   * How many tasks may wait once `cap` tasks are running. A non-negative integer or
   * `Infinity`; `go()` throws `ERR_NETPOLL_GOPOOL_QUEUE_FULL` beyond it. Default: `Infinity`.
   */
  maxQueue?: number;
  /** Gets `(error, ctx)` for every task that throws or rejects. Default: none (see `logger`). */
  panicHandler?: PanicHandler;
  /**
   * Reports a failed task when no panic handler is set, once per failure. Default: a process
   * warning (`process.emitWarning`, code `NETPOLL_GOPOOL_PANIC`) naming the pool.
   */
  logger?: PoolLogger;
}

/** {@link PoolOptions} with every field filled in. */
export interface ResolvedPoolOptions {
  readonly cap: number;
  readonly maxQueue: number;
  readonly panicHandler: PanicHandler | undefined;
  readonly logger: PoolLogger | undefined;
}

// Every key of PoolOptions: a missing or extra key here fails to compile.
const kPoolOptionKeys = Object.keys({
  cap: true,
  maxQueue: true,
  panicHandler: true,
  logger: true,
} satisfies Record<keyof PoolOptions, true>);

/** Largest `cap`: gopool's `math.MaxInt32`. */
export const kMaxCap = 2147483647;

/** The defaults of {@link PoolOptions}. */
export const kDefaultPoolOptions: ResolvedPoolOptions = Object.freeze({
  cap: kMaxCap,
  maxQueue: Number.POSITIVE_INFINITY,
  panicHandler: undefined,
  logger: undefined,
});

/** Options of `new WorkerPool(options)`. */
export interface WorkerPoolOptions {
  /**
   * The task module: an absolute path or a `file:` URL of a CommonJS or ES module whose
   * exports are the task functions. Required.
   */
  filename: string | URL;
  /** The export `run()` calls when its options name none. Default: `'default'`. */
  name?: string;
  /**
   * Threads started at construction and kept alive while idle. A non-negative integer.
   * Default: half of `os.availableParallelism()`, at least 1.
   */
  minThreads?: number;
  /** Most threads alive at once. A positive integer ≥ `minThreads`. Default: `os.availableParallelism()`. */
  maxThreads?: number;
  /**
   * Milliseconds a thread above `minThreads` stays alive with no task before it exits.
   * A non-negative integer or `Infinity`. Default: 5000.
   */
  idleTimeout?: number;
  /**
   * Tasks that may wait in the pool's queue, not yet handed to a thread (every thread holds
   * `concurrentTasksPerWorker` tasks or has a long backlog). A non-negative integer or
   * `Infinity`; `run()` rejects with `ERR_NETPOLL_GOPOOL_QUEUE_FULL` beyond it.
   * Default: `Infinity`.
   */
  maxQueue?: number;
  /**
   * Tasks handed to one thread at a time (waiting in its ring or running): the largest batch
   * a thread takes per wake-up. Cheap tasks are batched onto one thread up to this count;
   * expensive ones are spread or held back (see the README, "Batch, spread or hold back").
   * Async task functions run concurrently up to this count. A positive integer from 1 to
   * 65536. Default: 256.
   */
  concurrentTasksPerWorker?: number;
  /**
   * Default per-task timeout in milliseconds, counted from `run()`; 0 means none. A task
   * still running at its timeout is rejected with `ERR_NETPOLL_GOPOOL_TASK_TIMEOUT` and its
   * thread is terminated and replaced. A non-negative integer. Default: 0.
   */
  taskTimeout?: number;
  /** Passed to each `Worker` as `resourceLimits` (MB and stack size). Default: none. */
  resourceLimits?: ResourceLimits;
  /**
   * Bytes of each shared ring (one request ring and one response ring per thread). A power
   * of two from 4096 to 268435456. Values encoded larger than a quarter of it, and tasks
   * with a transfer list, travel by `postMessage` instead. Default: 262144 (256 KiB).
   */
  ringSize?: number;
  /**
   * Microseconds the event loop keeps checking for results (once per loop iteration, never
   * blocking) before it parks, and a thread keeps checking for new tasks after publishing
   * results (at most 30). Polling saves the wake-ups that dominate the cost of small tasks
   * on VMs; 0 parks at once (least CPU, more latency). An integer from 0 to 10000.
   * Default: 50.
   */
  pollTime?: number;
}

/** {@link WorkerPoolOptions} with every field filled in; `filename` is a `file:` URL string. */
export interface ResolvedWorkerPoolOptions {
  readonly filename: string;
  readonly name: string;
  readonly minThreads: number;
  readonly maxThreads: number;
  readonly idleTimeout: number;
  readonly maxQueue: number;
  readonly concurrentTasksPerWorker: number;
  readonly taskTimeout: number;
  readonly resourceLimits: Readonly<ResourceLimits> | undefined;
  readonly ringSize: number;
  readonly pollTime: number;
}

// Every key of WorkerPoolOptions: a missing or extra key here fails to compile.
const kWorkerPoolOptionKeys = Object.keys({
  filename: true,
  name: true,
  minThreads: true,
  maxThreads: true,
  idleTimeout: true,
  maxQueue: true,
  concurrentTasksPerWorker: true,
  taskTimeout: true,
  resourceLimits: true,
  ringSize: true,
  pollTime: true,
} satisfies Record<keyof WorkerPoolOptions, true>);

const kCpus = Math.max(1, availableParallelism());

/** The defaults of {@link WorkerPoolOptions} (`filename` has none: it is required). */
export const kDefaultWorkerPoolOptions: Omit<ResolvedWorkerPoolOptions, 'filename'> = Object.freeze(
  {
    name: 'default',
    minThreads: Math.max(1, Math.floor(kCpus / 2)),
    maxThreads: kCpus,
    idleTimeout: 5000,
    maxQueue: Number.POSITIVE_INFINITY,
    concurrentTasksPerWorker: 256,
    taskTimeout: 0,
    resourceLimits: undefined,
    ringSize: 262144,
    pollTime: 50,
  },
);

// ---- validation helpers -------------------------------------------------------------------

function optionsObject(input: unknown, path: string): Record<string, unknown> {
  if (input === undefined) return {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidArgumentError(path, 'an object', input);
  }
  return input as Record<string, unknown>;
}

/** Validates an integer in `[min, max]`, optionally also accepting `Infinity`. */
export function integerIn(
  value: unknown,
  path: string,
  min: number,
  max: number,
  allowInfinity = false,
): number {
  if (typeof value !== 'number') throw new InvalidArgumentError(path, 'a number', value);
  if (allowInfinity && value === Number.POSITIVE_INFINITY) return value;
  const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
  const expected = `an integer ${range}${allowInfinity ? ' or Infinity' : ''}`;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new OutOfRangeError(path, expected, value);
  }
  return value;
}

function functionOrUndefined<T>(value: unknown, path: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new InvalidArgumentError(path, 'a function', value);
  return value as T;
}

// ---- resolvers ----------------------------------------------------------------------------

/**
 * Validates `new Pool()` options and fills in the defaults. Throws coded argument errors,
 * also for a key that is not an option.
 */
export function resolvePoolOptions(input: unknown): ResolvedPoolOptions {
  const o = optionsObject(input, 'options');
  checkKnownKeys(o, kPoolOptionKeys, 'options');
  const d = kDefaultPoolOptions;
  return Object.freeze({
    cap: o.cap === undefined ? d.cap : integerIn(o.cap, 'options.cap', 1, kMaxCap),
    maxQueue:
      o.maxQueue === undefined
        ? d.maxQueue
        : integerIn(o.maxQueue, 'options.maxQueue', 0, Number.MAX_SAFE_INTEGER, true),
    panicHandler: functionOrUndefined<PanicHandler>(o.panicHandler, 'options.panicHandler'),
    logger: functionOrUndefined<PoolLogger>(o.logger, 'options.logger'),
  });
}

function resolveFilename(value: unknown): string {
  if (value instanceof URL) {
    if (value.protocol !== 'file:') {
      throw new InvalidArgumentError('options.filename', 'a file: URL', value.href);
    }
    return value.href;
  }
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError('options.filename', 'an absolute path or a file: URL', value);
  }
  if (value.startsWith('file:')) return new URL(value).href;
  if (!value.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(value)) {
    throw new InvalidArgumentError('options.filename', 'an absolute path or a file: URL', value);
  }
  return pathToFileURL(value).href;
}

const kResourceLimitKeys = [
  'maxYoungGenerationSizeMb',
  'maxOldGenerationSizeMb',
  'codeRangeSizeMb',
  'stackSizeMb',
] as const satisfies readonly (keyof ResourceLimits)[];

function resolveResourceLimits(value: unknown): Readonly<ResourceLimits> | undefined {
  if (value === undefined) return undefined;
  const o = optionsObject(value, 'options.resourceLimits');
  checkKnownKeys(o, kResourceLimitKeys, 'options.resourceLimits');
  const limits: ResourceLimits = {};
  for (const key of kResourceLimitKeys) {
    const v = o[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) {
      throw new OutOfRangeError(`options.resourceLimits.${key}`, 'a positive number', v);
    }
    limits[key] = v;
  }
  return Object.freeze(limits);
}

/**
 * Validates `new WorkerPool()` options and fills in the defaults. Throws coded argument
 * errors, also for a key that is not an option (in `options` or `options.resourceLimits`).
 */
export function resolveWorkerPoolOptions(input: unknown): ResolvedWorkerPoolOptions {
  if (input === undefined) throw new InvalidArgumentError('options', 'an object', input);
  const o = optionsObject(input, 'options');
  checkKnownKeys(o, kWorkerPoolOptionKeys, 'options');
  const d = kDefaultWorkerPoolOptions;
  const filename = resolveFilename(o.filename);
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name.length === 0)) {
    throw new InvalidArgumentError('options.name', 'a non-empty string', o.name);
  }
  const maxThreads =
    o.maxThreads === undefined
      ? d.maxThreads
      : integerIn(o.maxThreads, 'options.maxThreads', 1, 1024);
  const minThreads =
    o.minThreads === undefined
      ? Math.min(d.minThreads, maxThreads)
      : integerIn(o.minThreads, 'options.minThreads', 0, 1024);
  if (minThreads > maxThreads) {
    throw new OutOfRangeError(
      'options.minThreads',
      `at most options.maxThreads (${maxThreads})`,
      minThreads,
    );
  }
  const ringSize =
    o.ringSize === undefined
      ? d.ringSize
      : integerIn(o.ringSize, 'options.ringSize', 4096, 268435456);
  if ((ringSize & (ringSize - 1)) !== 0) {
    throw new OutOfRangeError('options.ringSize', 'a power of two', ringSize);
  }
  const unbounded = Number.MAX_SAFE_INTEGER;
  return Object.freeze({
    filename,
    name: (o.name as string | undefined) ?? d.name,
    minThreads,
    maxThreads,
    idleTimeout:
      o.idleTimeout === undefined
        ? d.idleTimeout
        : integerIn(o.idleTimeout, 'options.idleTimeout', 0, 2147483647, true),
    maxQueue:
      o.maxQueue === undefined
        ? d.maxQueue
        : integerIn(o.maxQueue, 'options.maxQueue', 0, unbounded, true),
    concurrentTasksPerWorker:
      o.concurrentTasksPerWorker === undefined
        ? d.concurrentTasksPerWorker
        : integerIn(o.concurrentTasksPerWorker, 'options.concurrentTasksPerWorker', 1, 65536),
    taskTimeout:
      o.taskTimeout === undefined
        ? d.taskTimeout
        : integerIn(o.taskTimeout, 'options.taskTimeout', 0, 2147483647),
    resourceLimits: resolveResourceLimits(o.resourceLimits),
    ringSize,
    pollTime:
      o.pollTime === undefined ? d.pollTime : integerIn(o.pollTime, 'options.pollTime', 0, 10000),
  });
}
