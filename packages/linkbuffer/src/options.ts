/**
 * Options of `new LinkBuffer(options)`: types, defaults and the one validation pass.
 */
import { POISON_BYTE } from '@netpoll/mcache';
import { InvalidArgumentError, OutOfRangeError } from './errors';
import { kMaxPooledSize, kMcacheNodeAllocator, type NodeAllocator } from './node-allocator';

/** Options of {@link LinkBuffer}. Every field is optional. */
export interface LinkBufferOptions {
  /**
   * Where writable node memory, cross-node `next()` copies and the peek cache come from.
   * Default: {@link kMcacheNodeAllocator} (`@netpoll/mcache`). For `@netpoll/core` and tests.
   */
  allocator?: NodeAllocator;
  /**
   * Minimum capacity of a new writable node, in bytes (netpoll's `LinkBufferCap`). A reservation
   * larger than this gets a node of its own size. Integer from 1 to 8388608 (8 MiB). Default 4096.
   */
  nodeSize?: number;
  /**
   * Debug mode: memory this buffer gives back (node memory at reference count 0, recorded
   * `next()` copies, the peek cache, borrowed regions) is first filled with {@link kPoisonByte},
   * so a view used after `release()` shows poison instead of plausible data. Default: true when
   * the environment variable `NETPOLL_DEBUG` is `1` at construction, else false.
   */
  debug?: boolean;
}

/** The resolved, frozen form of {@link LinkBufferOptions}. */
export type ResolvedLinkBufferOptions = Readonly<Required<LinkBufferOptions>>;

/**
 * The byte debug mode writes over released memory: `@netpoll/mcache`'s `POISON_BYTE` (0xDD), so a
 * stale view shows the same marker whichever layer poisoned it.
 */
export const kPoisonByte: number = POISON_BYTE;

/** Defaults of {@link LinkBufferOptions}; `debug` here is the value used when `NETPOLL_DEBUG` is unset. */
export const kDefaultLinkBufferOptions: ResolvedLinkBufferOptions = Object.freeze({
  allocator: kMcacheNodeAllocator,
  nodeSize: 4096,
  debug: false,
});

/** The keys of {@link LinkBufferOptions}; any other key is refused. */
const kLinkBufferOptionKeys: readonly string[] = Object.freeze(['allocator', 'nodeSize', 'debug']);

/** Resolved option objects, so a LinkBuffer built from `other.options` skips validation. */
const resolvedOptions = new WeakSet<object>();

/** True when `value` was returned by {@link resolveLinkBufferOptions}. */
export function isResolvedLinkBufferOptions(value: unknown): value is ResolvedLinkBufferOptions {
  return typeof value === 'object' && value !== null && resolvedOptions.has(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Levenshtein distance between `a` and `b` (insertions, deletions and substitutions cost 1). */
function editDistance(a: string, b: string): number {
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
 * Throws `ERR_NETPOLL_INVALID_ARG` when `input` has an own enumerable string key that is not in
 * `known` (a misspelt option would otherwise be ignored without a word), with the message
 * `${path}.${key} is not a known option (did you mean ${suggestion}?)`, or without the
 * parenthesis when no known key is close. A known key is close when it equals `key` ignoring
 * case, or lies within Levenshtein distance max(2, ⌊key.length / 3⌋) of it; the closest one is
 * suggested (a case-only difference counts as closest; on a tie, the first in `known`).
 */
export function checkKnownKeys(input: object, known: readonly string[], path: string): void {
  for (const key of Object.keys(input)) {
    if (known.includes(key)) continue;
    const limit = Math.max(2, Math.floor(key.length / 3));
    let suggestion: string | null = null;
    let best = Number.POSITIVE_INFINITY;
    for (const candidate of known) {
      const distance =
        candidate.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, candidate);
      if (distance <= limit && distance < best) {
        best = distance;
        suggestion = candidate;
      }
    }
    const hint = suggestion === null ? '' : ` (did you mean ${suggestion}?)`;
    throw new InvalidArgumentError(`${path}.${key} is not a known option${hint}`);
  }
}

/**
 * Validates `input` once and returns frozen options merged onto the defaults. Never mutates or
 * keeps `input`. Throws `ERR_NETPOLL_INVALID_ARG` (wrong type, or a key that is not an option)
 * or `ERR_NETPOLL_OUT_OF_RANGE`.
 */
export function resolveLinkBufferOptions(input: unknown): ResolvedLinkBufferOptions {
  if (isResolvedLinkBufferOptions(input)) return input;
  if (input !== undefined && !isPlainObject(input)) {
    throw new InvalidArgumentError('options', 'a plain object or undefined', input);
  }
  const options = input ?? {};
  checkKnownKeys(options, kLinkBufferOptionKeys, 'options');

  const allocator = options.allocator ?? kDefaultLinkBufferOptions.allocator;
  if (typeof allocator !== 'object' || allocator === null) {
    throw new InvalidArgumentError('options.allocator', 'an object', allocator);
  }
  const { allocate, free } = allocator as Partial<NodeAllocator>;
  if (typeof allocate !== 'function') {
    throw new InvalidArgumentError('options.allocator.allocate', 'a function', allocate);
  }
  if (typeof free !== 'function') {
    throw new InvalidArgumentError('options.allocator.free', 'a function', free);
  }

  const nodeSize = options.nodeSize ?? kDefaultLinkBufferOptions.nodeSize;
  if (typeof nodeSize !== 'number' || !Number.isInteger(nodeSize)) {
    throw new InvalidArgumentError('options.nodeSize', 'an integer', nodeSize);
  }
  if (nodeSize < 1 || nodeSize > kMaxPooledSize) {
    throw new OutOfRangeError('options.nodeSize', `between 1 and ${kMaxPooledSize}`, nodeSize);
  }

  const debug = options.debug ?? process.env.NETPOLL_DEBUG === '1';
  if (typeof debug !== 'boolean') {
    throw new InvalidArgumentError('options.debug', 'a boolean', debug);
  }

  const resolved: ResolvedLinkBufferOptions = Object.freeze({
    allocator: allocator as NodeAllocator,
    nodeSize,
    debug,
  });
  resolvedOptions.add(resolved);
  return resolved;
}
