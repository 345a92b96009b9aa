/**
 * The callback type of `forEachChunk` and `forEachNewChunk`, and the check of `maxChunks`.
 */
import type { Buffer } from 'node:buffer';
import { integerError } from './errors';

/**
 * Visits one readable chunk: `buffer[start, end)`. Return `false` to stop early (any other
 * return value continues).
 * The triple is valid until the next consuming read or `release()` of the buffer; the visitor
 * must not call methods of the buffer it is visiting.
 *
 * `retained` is true when the buffer itself keeps the chunk's memory alive until it releases the
 * chunk: memory from its allocator, a region lent through `appendRegion`, or a shared (sliced,
 * `writeFrom`) part of either. It is false for caller memory inserted zero-copy (`writeBinary` of
 * a large view, `writeDirect`), which the caller must keep unchanged until it is sent.
 *
 * `memory` and `memoryOffset` are `buffer.buffer` and `buffer.byteOffset`, which the buffer knows:
 * reading the getters is a call into V8's runtime per chunk.
 */
export type ChunkVisitor = (
  buffer: Buffer,
  start: number,
  end: number,
  retained: boolean,
  memory: ArrayBufferLike,
  memoryOffset: number,
) => unknown;

/** Throws unless `maxChunks` is a non-negative integer or `Infinity` (the default: all chunks). */
export function checkMaxChunks(maxChunks: number): void {
  if (
    maxChunks !== Number.POSITIVE_INFINITY &&
    !(Number.isSafeInteger(maxChunks) && maxChunks >= 0)
  ) {
    throw integerError('maxChunks', 'a non-negative integer or Infinity', maxChunks);
  }
}
