/**
 * The memory a LinkBuffer's reads borrow when they cannot return a view of node memory: the
 * cross-node `next()` copies, recorded until `release()`, and the single reusable peek cache.
 * netpoll frees both at every Release; so does `dropScratch()`. Internal: not re-exported from the
 * package entry point.
 *
 * Design after cloudwego/netpoll `nocopy_linkbuffer.go` (Apache-2.0); no code was copied.
 */
import { Buffer } from 'node:buffer';
import { kEmptyBuffer } from './link-buffer-node';
import { kMaxPooledSize } from './node-allocator';
import { allocate, type NodeChain } from './node-chain';
import { viewOf } from './view';

/** Cross-node `next()` copies larger than this (and ≤ 8 MiB) use pooled, recorded memory. */
const kPooledCopyMin = 1024;
/** Smallest peek cache requested from the allocator, so tiny peeks do not regrow it each time. */
const kMinPeekCache = 64;

/**
 * `n` bytes to copy a cross-node `next()` into: pooled memory recorded until `release()` when
 * 1 KiB < n ≤ 8 MiB, else a plain allocation.
 */
export function copyTarget(chain: NodeChain, n: number): Buffer {
  if (n > kPooledCopyMin && n <= kMaxPooledSize) {
    const memory = allocate(chain, n);
    if (chain.copies === null) chain.copies = [memory];
    else chain.copies.push(memory);
    return memory.length === n ? memory : viewOf(memory, 0, n);
  }
  return Buffer.allocUnsafe(n);
}

/** Swaps the peek cache for one of at least `n` bytes, keeping its valid prefix. */
export function growPeekCache(chain: NodeChain, n: number): void {
  const old = chain.peekCache;
  const pooled = n <= kMaxPooledSize;
  const size = Math.max(n, kMinPeekCache);
  const cache = pooled ? allocate(chain, size) : Buffer.allocUnsafeSlow(size);
  if (chain.peekLength > 0) old.copy(cache, 0, 0, chain.peekLength);
  freePeekCache(chain);
  chain.peekCache = cache;
  chain.peekPooled = pooled;
}

function freePeekCache(chain: NodeChain): void {
  const cache = chain.peekCache;
  if (cache === kEmptyBuffer) return;
  if (chain.peekPooled) freeScratch(chain, cache);
  chain.peekCache = kEmptyBuffer;
  chain.peekPooled = false;
}

/** Frees recorded copies and the peek cache (netpoll frees both at every Release). */
export function dropScratch(chain: NodeChain): void {
  const copies = chain.copies;
  // pop() rather than `length = 0`, which V8 runs as a runtime call (it shows in profiles).
  if (copies !== null) while (copies.length > 0) freeScratch(chain, copies.pop()!);
  freePeekCache(chain);
  chain.peekLength = 0;
}

function freeScratch(chain: NodeChain, memory: Buffer): void {
  if (chain.poison >= 0) memory.fill(chain.poison);
  chain.allocator.free(memory);
}
