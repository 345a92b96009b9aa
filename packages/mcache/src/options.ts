/**
 * Options of `BufferCache`: the interface, the frozen defaults, and the one validating resolver
 * the constructor calls. Nothing on the hot path validates options again.
 */
import { InvalidArgumentError, OutOfRangeError, unknownOptionError } from './errors';

/** The largest size class any cache may pool, and the largest slab it may carve: 1 GiB. */
export const kMaxClassSize = 2 ** 30;

/** Options accepted by `new BufferCache(options)`. Every field is optional. */
export interface BufferCacheOptions {
  /**
   * The largest size class that is pooled, in bytes; a power of two from 1 to 1 GiB.
   * Requests whose capacity is larger are plain, never-pooled allocations.
   * Default: 8 MiB (8388608), netpoll's threshold.
   */
  maxPooledSize?: number;
  /**
   * The most bytes one size class keeps on its free list, in bytes; a non-negative safe integer.
   * Class `c` keeps at most `floor(maxBytesPerClass / c)` freed buffers; a `free()` beyond that
   * drops the buffer for the garbage collector. `0` disables caching (every free drops).
   * Default: 8 MiB (8388608).
   */
  maxBytesPerClass?: number;
  /**
   * The size of the slabs small classes are carved from, in bytes; a power of two from 1 KiB to
   * 1 GiB. A class smaller than this shares one ArrayBuffer of up to `slabSize` bytes among up to
   * 256 buffers; a class at least this large gets one ArrayBuffer per buffer.
   * Default: 256 KiB (262144).
   */
  slabSize?: number;
  /**
   * Debug mode: freed memory is filled with `POISON_BYTE` (0xDD), and every `malloc` returns a
   * fresh Buffer object so a stale handle can never equal a live one: freeing a stale handle whose
   * memory was handed out again then throws `ERR_NETPOLL_MCACHE_DOUBLE_FREE` (without debug mode
   * only a plain second free is caught), and the message includes the stack of the region's last
   * `free`. Slower; for tests.
   * Default: `true` when the environment variable `NETPOLL_DEBUG` is `1` at construction,
   * otherwise `false`.
   */
  debug?: boolean;
}

/** The options after defaults are applied and validation passed; frozen. */
export type ResolvedBufferCacheOptions = Readonly<Required<BufferCacheOptions>>;

/** The defaults. `debug` here is the value used when `NETPOLL_DEBUG` is not `1`. */
export const kDefaultBufferCacheOptions: ResolvedBufferCacheOptions = Object.freeze({
  maxPooledSize: 8 * 1024 * 1024,
  maxBytesPerClass: 8 * 1024 * 1024,
  slabSize: 256 * 1024,
  debug: false,
});

const kKnownOptions: readonly string[] = Object.freeze(Object.keys(kDefaultBufferCacheOptions));

/** Tells whether `NETPOLL_DEBUG=1` is set in the environment right now. */
export function isDebugEnvironment(): boolean {
  return process.env.NETPOLL_DEBUG === '1';
}

function isPowerOfTwo(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && (value & (value - 1)) === 0;
}

/** Validates a power-of-two byte size in `[min, kMaxClassSize]`. */
function powerOfTwoSize(path: string, value: unknown, min: number): number {
  if (typeof value !== 'number') throw new InvalidArgumentError(path, 'a number', value);
  const expected = `a power of two from ${min} to ${kMaxClassSize}`;
  if (value < min || value > kMaxClassSize || !isPowerOfTwo(value)) {
    throw new OutOfRangeError(path, expected, value);
  }
  return value;
}

/** Edit distance (insertions, deletions, substitutions) between `a` and `b`. */
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
 * The known key closest to `key`: equal ignoring case, else the smallest edit distance within
 * max(2, ⌊key.length / 3⌋); the first in `known` order on a tie. `null` when none is that close.
 */
function closestKey(key: string, known: readonly string[]): string | null {
  const lower = key.toLowerCase();
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const candidate of known) {
    const distance = candidate.toLowerCase() === lower ? 0 : levenshtein(key, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * Refuses keys of `input` that are not in `known`, so a typo never silently falls back to a
 * default: `ERR_NETPOLL_INVALID_ARG`, `options.maxPoolSize is not a known option (did you mean
 * maxPooledSize?)`, without the parenthesis when no known key is close.
 */
export function checkKnownKeys(input: object, known: readonly string[], path: string): void {
  for (const key of Object.keys(input)) {
    if (!known.includes(key)) throw unknownOptionError(`${path}.${key}`, closestKey(key, known));
  }
}

/**
 * Validates `input` (undefined or a plain object of `BufferCacheOptions`), merges it onto the
 * defaults and returns a frozen result. It never keeps a reference to `input`.
 *
 * @throws `ERR_NETPOLL_INVALID_ARG` when `input` is not a plain object, has an unknown key, or a
 *   field has the wrong type.
 * @throws `ERR_NETPOLL_OUT_OF_RANGE` when a numeric field is outside its range.
 */
export function resolveBufferCacheOptions(input: unknown): ResolvedBufferCacheOptions {
  if (input === undefined) {
    return Object.freeze({ ...kDefaultBufferCacheOptions, debug: isDebugEnvironment() });
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidArgumentError('options', 'an object or undefined', input);
  }
  const options = input as Record<string, unknown>;
  checkKnownKeys(options, kKnownOptions, 'options');
  const defaults = kDefaultBufferCacheOptions;

  const maxPooledSize =
    options.maxPooledSize === undefined
      ? defaults.maxPooledSize
      : powerOfTwoSize('options.maxPooledSize', options.maxPooledSize, 1);

  const slabSize =
    options.slabSize === undefined
      ? defaults.slabSize
      : powerOfTwoSize('options.slabSize', options.slabSize, 1024);

  let maxBytesPerClass = defaults.maxBytesPerClass;
  if (options.maxBytesPerClass !== undefined) {
    const value = options.maxBytesPerClass;
    if (typeof value !== 'number') {
      throw new InvalidArgumentError('options.maxBytesPerClass', 'a number', value);
    }
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new OutOfRangeError('options.maxBytesPerClass', 'a non-negative safe integer', value);
    }
    maxBytesPerClass = value;
  }

  let debug = isDebugEnvironment();
  if (options.debug !== undefined) {
    if (typeof options.debug !== 'boolean') {
      throw new InvalidArgumentError('options.debug', 'a boolean', options.debug);
    }
    debug = options.debug;
  }

  return Object.freeze({ maxPooledSize, maxBytesPerClass, slabSize, debug });
}
