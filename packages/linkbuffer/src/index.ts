export { putUint16, putUint32, uint16At, uint32At } from './big-endian';
export {
  ClosedError,
  DelimiterNotFoundError,
  InvalidArgumentError,
  isNetpollError,
  kLinkBufferErrorCodes,
  LinkBufferError,
  type LinkBufferErrorCode,
  NotEnoughDataError,
  OutOfRangeError,
  ReadOnlyError,
} from './errors';
export {
  type ChunkVisitor,
  kBinaryInplaceThreshold,
  kWriteFromCopyMax,
  LinkBuffer,
} from './link-buffer';
export { kMaxPooledSize, kMcacheNodeAllocator, type NodeAllocator } from './node-allocator';
export {
  kDefaultLinkBufferOptions,
  kPoisonByte,
  type LinkBufferOptions,
  type ResolvedLinkBufferOptions,
  resolveLinkBufferOptions,
} from './options';
export type { RegionOwner } from './region-owner';
