/**
 * Reads over a {@link NodeChain} that go past the read node: the walks that consume, copy, search
 * and visit readable bytes across nodes, and the slow paths of `next()` and `peek()`. The fast
 * paths (inside the read node) stay inline in the LinkBuffer methods. Internal: not re-exported
 * from the package entry point.
 *
 * Design after cloudwego/netpoll `nocopy_linkbuffer.go` (Apache-2.0): cross-node copies recorded
 * until `release()`, the single reusable peek cache. Re-designed for Node.js; no code was copied.
 */
import { Buffer } from 'node:buffer';
import type { ChunkVisitor } from './chunk-visitor';
import { kAllocated, kBorrowed, kEmptyBuffer, kExposed, type LinkNode } from './link-buffer-node';
import { copyFrom, indexIn } from './node-bytes';
import { advanceRead, checkRead, type NodeChain } from './node-chain';
import { copyTarget, growPeekCache } from './scratch-memory';
import { viewIn, viewOf } from './view';

/** `next(n)` past its inline fast path: validation, then a view, a span view or a copy. */
export function nextSlow(chain: NodeChain, n: number): Buffer {
  if (checkRead(chain, 'next', n) === 0) return kEmptyBuffer;
  const node = advanceRead(chain);
  const start = node.readOffset;
  if (node.committedEnd - start >= n) {
    node.readOffset = start + n;
    node.flags |= kExposed;
    chain.length -= n;
    chain.peekLength = 0;
    return viewIn(node.memory, node.memoryOffset + start, n);
  }
  const span = spanView(node, n);
  if (span !== null) {
    consume(chain, n, null, 0);
    return span;
  }
  const out = copyTarget(chain, n);
  consume(chain, n, out, 0);
  return out;
}

/** `peek(n)` past its inline fast path: validation, then a view or the peek cache. */
export function peekSlow(chain: NodeChain, n: number): Buffer {
  if (checkRead(chain, 'peek', n) === 0) return kEmptyBuffer;
  const node = advanceRead(chain);
  const start = node.readOffset;
  if (node.committedEnd - start >= n) {
    node.flags |= kExposed;
    return viewIn(node.memory, node.memoryOffset + start, n);
  }
  const filled = chain.peekLength;
  if (n > filled) {
    if (chain.peekCache.length < n) growPeekCache(chain, n);
    copyOut(chain, filled, chain.peekCache, filled, n - filled);
    chain.peekLength = n;
  }
  return viewOf(chain.peekCache, 0, n);
}

/**
 * `peekRegion(n)` past its inline fast path: validation, then the read node when it holds all
 * `n` bytes (marked exposed: the caller hands out its memory), else null (`n` is 0, or the bytes
 * lie across nodes).
 */
export function regionNode(chain: NodeChain, n: number): LinkNode | null {
  if (checkRead(chain, 'peek', n) === 0) return null;
  const node = advanceRead(chain);
  if (node.committedEnd - node.readOffset < n) return null;
  node.flags |= kExposed;
  return node;
}

/**
 * All `length` readable bytes without consuming them (`bytes()`, the caller checked that some
 * are readable): a view when they sit in one node or in nodes back to back in one memory, else a
 * fresh copy (not pooled).
 */
export function allBytes(chain: NodeChain): Buffer {
  const length = chain.length;
  const node = advanceRead(chain);
  const start = node.readOffset;
  if (node.committedEnd - start >= length) {
    node.flags |= kExposed;
    return viewIn(node.memory, node.memoryOffset + start, length);
  }
  const span = spanView(node, length);
  if (span !== null) return span;
  const out = Buffer.allocUnsafe(length);
  copyOut(chain, 0, out, 0, length);
  return out;
}

/**
 * A view of the `n` readable bytes from `node` (the read node, which holds fewer than `n`) when
 * they lie back to back in one memory across the nodes that hold them, as consecutive reads
 * into one slab do (netpoll gets the same effect by reading into one large node); the nodes
 * are marked exposed. Else `null`, and nothing is marked. Does not consume.
 */
function spanView(node: LinkNode, n: number): Buffer | null {
  const memory = node.memory;
  let end = node.memoryOffset + node.committedEnd;
  let remaining = n - (node.committedEnd - node.readOffset);
  let last = node.next!;
  for (;;) {
    const available = last.committedEnd - last.readOffset;
    if (available > 0) {
      if (last.memory !== memory || last.memoryOffset + last.readOffset !== end) return null;
      if (available >= remaining) break;
      remaining -= available;
      end = last.memoryOffset + last.committedEnd;
    }
    last = last.next!;
  }
  for (let each = node; ; each = each.next!) {
    each.flags |= kExposed;
    if (each === last) break;
  }
  return viewIn(memory, node.memoryOffset + node.readOffset, n);
}

/**
 * Consumes `n` readable bytes (the caller checked `n <= length`), copying them to
 * `target[offset…]` when a target is given. Leaves `read` on the node holding the last byte.
 */
export function consume(
  chain: NodeChain,
  n: number,
  target: Uint8Array | null,
  offset: number,
): void {
  let node = chain.read;
  let remaining = n;
  let at = offset;
  for (;;) {
    const start = node.readOffset;
    const available = node.committedEnd - start;
    if (available >= remaining) {
      if (target !== null) copyFrom(node, start, start + remaining, target, at);
      node.readOffset = start + remaining;
      break;
    }
    if (available > 0) {
      if (target !== null) copyFrom(node, start, node.committedEnd, target, at);
      node.readOffset = node.committedEnd;
      remaining -= available;
      at += available;
    }
    node = node.next!;
  }
  chain.read = node;
  chain.length -= n;
  chain.peekLength = 0;
}

/** Copies `n` readable bytes starting `skip` bytes past the read position, without consuming. */
export function copyOut(
  chain: NodeChain,
  skip: number,
  target: Uint8Array,
  offset: number,
  n: number,
): void {
  let node = chain.read;
  let toSkip = skip;
  let remaining = n;
  let at = offset;
  for (;;) {
    let start = node.readOffset;
    let available = node.committedEnd - start;
    if (toSkip > 0) {
      const skipped = Math.min(toSkip, available);
      toSkip -= skipped;
      start += skipped;
      available -= skipped;
    }
    if (available > 0) {
      const take = Math.min(available, remaining);
      copyFrom(node, start, start + take, target, at);
      remaining -= take;
      at += take;
      if (remaining === 0) return;
    }
    node = node.next!;
  }
}

/** `indexByte` without argument checks (callers validated `byte` and `skip`). */
export function indexOf(chain: NodeChain, byte: number, skip: number): number {
  let node = chain.read;
  let passed = 0;
  let remaining = chain.length;
  while (remaining > 0) {
    const start = node.readOffset;
    const size = node.committedEnd - start;
    if (size > 0) {
      if (skip < passed + size) {
        const from = skip > passed ? start + (skip - passed) : start;
        const hit = indexIn(node.buf, byte, from, node.committedEnd);
        if (hit >= 0) return passed + (hit - start);
      }
      passed += size;
      remaining -= size;
      if (remaining === 0) break;
    }
    node = node.next!;
  }
  return -1;
}

/** `forEachChunk` without argument checks: visits up to `maxChunks` readable chunks in order. */
export function walkChunks(chain: NodeChain, visitor: ChunkVisitor, maxChunks: number): number {
  let node = chain.read;
  let remaining = chain.length;
  let count = 0;
  while (remaining > 0 && count < maxChunks) {
    const start = node.readOffset;
    const end = node.committedEnd;
    if (end > start) {
      node.flags |= kExposed;
      count++;
      remaining -= end - start;
      const retained = ((node.origin ?? node).flags & (kAllocated | kBorrowed)) !== 0;
      if (
        visitor(node.buf, start, end, retained, node.memory, node.memoryOffset) === false ||
        remaining === 0
      )
        break;
    }
    node = node.next!;
  }
  return count;
}

/** `forEachNewChunk(visitor)` once its checks passed (see there): visits and moves the cursor. */
export function walkNewChunks(chain: NodeChain, visitor: ChunkVisitor): number {
  let fresh = chain.fresh;
  let node: LinkNode;
  let start: number;
  if (fresh < chain.length) {
    if (fresh === 0) return 0;
    // Some visited bytes are still readable, so the node holding the last one is not released.
    node = chain.cursor;
    start = chain.cursorEnd;
  } else {
    // Nothing visited is readable any more: every readable byte is new. (fresh may exceed
    // length; the loop below stores the exact count.)
    fresh = chain.length;
    if (fresh === 0) return 0;
    node = chain.read;
    start = node.readOffset;
  }
  let count = 0;
  for (;;) {
    const end = node.committedEnd;
    if (end > start) {
      node.flags |= kExposed;
      const retained = ((node.origin ?? node).flags & (kAllocated | kBorrowed)) !== 0;
      // The cursor moves past the chunk only once the visitor returned (see forEachNewChunk).
      const stop =
        visitor(node.buf, start, end, retained, node.memory, node.memoryOffset) === false;
      fresh -= end - start;
      count++;
      chain.fresh = fresh;
      chain.cursor = node;
      chain.cursorEnd = end;
      if (stop || fresh === 0) break;
    }
    node = node.next!;
    start = node.readOffset;
  }
  return count;
}
