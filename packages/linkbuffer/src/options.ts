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

/**
 * Validates `input` once and returns frozen options merged onto the defaults. Never mutates or
 * keeps `input`. Throws `ERR_NETPOLL_INVALID_ARG` (wrong type) or `ERR_NETPOLL_OUT_OF_RANGE`.
 */
export function resolveLinkBufferOptions(input: unknown): ResolvedLinkBufferOptions {
  if (isResolvedLinkBufferOptions(input)) return input;
  if (input !== undefined && !isPlainObject(input)) {
    throw new InvalidArgumentError('options', 'a plain object or undefined', input);
  }
  const options = input ?? {};

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
