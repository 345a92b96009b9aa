/**
 * Giving memory back: what `release()`, `trim()`, `evacuate()` and `close()` do to a
 * {@link NodeChain} once their checks passed. Internal: not re-exported from the package entry
 * point.
 */
import {
  acquireAllocated,
  kAllocated,
  kBorrowed,
  kEmptyBuffer,
  kExposed,
  kWritable,
  type LinkNode,
  releaseNode,
} from './link-buffer-node';
import {
  advanceRead,
  allocate,
  emptyNode,
  markClosed,
  type NodeChain,
  releaseRange,
} from './node-chain';
import { dropScratch } from './scratch-memory';

/**
 * `release()` of an open buffer: frees the consumed nodes before the read node and the scratch
 * memory. Internal callers use it so subclass overrides of `release()` stay out.
 */
export function releaseConsumed(chain: NodeChain): void {
  const read = advanceRead(chain);
  let node = chain.head;
  while (node !== read) {
    const next = node.next!;
    releaseNode(node, chain.poison);
    node = next;
  }
  chain.head = read;
  // Views of the read node ended here: `evacuate()` may move its bytes again.
  read.flags &= ~kExposed;
  dropScratch(chain);
  // Everything written was read and released, and the last node is allocator memory that nothing
  // else refers to (no slice; a root, not the writable tail of a `writeDirect()` split, which
  // refers to its root's memory): its next reservation starts at its beginning again. Output
  // used request-reply style (write, flush, send, release) then reuses one node instead of taking
  // a fresh one from the allocator per reply and giving the last one back.
  if (
    chain.length === 0 &&
    chain.mallocSize === 0 &&
    read.next === null &&
    (read.flags & kWritable) !== 0 && // allocated memory (never a lent region or the caller's)
    read.refs === 1 &&
    read.origin === null
  ) {
    // Debug mode poisons the bytes read, as it would have on freeing the node.
    if (chain.poison >= 0) read.buf.fill(chain.poison, read.base, read.mallocEnd);
    read.readOffset = read.committedEnd = read.mallocEnd = read.base;
  }
}

/** `trim()` of an open buffer: `release()`, then the last node too when nothing is left in it. */
export function trimChain(chain: NodeChain): void {
  releaseConsumed(chain);
  if (chain.length !== 0 || chain.mallocSize !== 0) return;
  const head = chain.head;
  if (head.buf === kEmptyBuffer && head.next === null) return;
  releaseRange(chain, head, null);
  chain.head = chain.read = chain.flush = chain.write = emptyNode();
}

/**
 * `evacuate()` of an open buffer with readable bytes: copies the unexposed, fully committed
 * borrowed nodes into allocator memory and releases them; returns the bytes copied.
 */
export function evacuateRegions(chain: NodeChain): number {
  let moved = 0;
  let previous: LinkNode | null = null;
  let node = chain.head;
  for (;;) {
    const last = node === chain.flush;
    const next = node.next;
    const size = node.committedEnd - node.readOffset;
    if (
      size > 0 &&
      ((node.origin ?? node).flags & kBorrowed) !== 0 &&
      (node.flags & kExposed) === 0 &&
      node.committedEnd === node.mallocEnd &&
      node !== chain.cursor
    ) {
      const memory = allocate(chain, size);
      node.buf.copy(memory, 0, node.readOffset, node.committedEnd);
      const copy = acquireAllocated(chain.allocator, memory, kAllocated);
      copy.committedEnd = size;
      copy.mallocEnd = size;
      copy.next = next;
      if (previous === null) chain.head = copy;
      else previous.next = copy;
      if (chain.read === node) chain.read = copy;
      if (chain.flush === node) chain.flush = copy;
      if (chain.write === node) chain.write = copy;
      releaseNode(node, chain.poison);
      node = copy;
      moved += size;
    }
    if (last || next === null) break;
    previous = node;
    node = next;
  }
  return moved;
}

/** `close()` of an open buffer: releases every node and the scratch memory, then marks it closed. */
export function closeChain(chain: NodeChain): void {
  releaseRange(chain, chain.head, null);
  dropScratch(chain);
  markClosed(chain);
}
