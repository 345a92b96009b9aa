/**
 * The process-wide default cache and the gopkg-style free functions that use it.
 *
 * Creating the default cache reserves no memory (slabs are carved on first use), so importing the
 * package stays cheap. Its options are the defaults; debug mode follows `NETPOLL_DEBUG=1` as set
 * when the package is first imported.
 */
import type { Buffer } from 'node:buffer';
import { BufferCache } from './buffer-cache';
import { tooManyMallocArguments } from './errors';
import type { BufferCacheStats } from './stats';

/** The cache behind `malloc`, `free`, `capacityOf` and `stats`; default options. */
export const defaultCache: BufferCache = new BufferCache();

/**
 * `defaultCache.malloc(size, capacity)`: a Buffer of length `size` from the power-of-two class
 * at least `max(size, capacity)`. Not zeroed; owned by the caller until `free`.
 * See `BufferCache.malloc` for the contract and errors.
 */
export function malloc(size: number, capacity?: number): Buffer {
  // biome-ignore lint/complexity/noArguments: the arity rule holds here too; see BufferCache.malloc.
  const count = arguments.length;
  if (count > 2) throw tooManyMallocArguments(count);
  return capacity === undefined ? defaultCache.malloc(size) : defaultCache.malloc(size, capacity);
}

/**
 * `defaultCache.free(buffer)`: returns a Buffer `malloc` handed out; the caller must not use it
 * afterwards. See `BufferCache.free` for the contract and errors.
 */
export function free(buffer: Buffer): void {
  defaultCache.free(buffer);
}

/**
 * `defaultCache.capacityOf(buffer)`: the capacity, in bytes, of an allocation of the default
 * cache. See `BufferCache.capacityOf`.
 */
export function capacityOf(buffer: Buffer): number {
  return defaultCache.capacityOf(buffer);
}

/** `defaultCache.stats()`: a plain snapshot of the default cache's counters. */
export function stats(): BufferCacheStats {
  return defaultCache.stats();
}

/** `defaultCache.trim()`: drops every held buffer of the default cache; returns the bytes held. */
export function trim(): number {
  return defaultCache.trim();
}
