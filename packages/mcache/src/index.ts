export { BufferCache } from './buffer-cache';
export { capacityOf, defaultCache, free, malloc, stats, trim } from './default-cache';
export {
  AllocationFailedError,
  DoubleFreeError,
  ForeignBufferError,
  InvalidArgumentError,
  isNetpollError,
  kMcacheErrorCodes,
  type McacheErrorCode,
  type NetpollError,
  OutOfRangeError,
} from './errors';
export {
  type BufferCacheOptions,
  kDefaultBufferCacheOptions,
  type ResolvedBufferCacheOptions,
} from './options';
export { POISON_BYTE } from './poison';
export type { BufferCacheCounters, BufferCacheStats, SizeClassStats } from './stats';
