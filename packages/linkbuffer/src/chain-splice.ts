/**
 * Moving nodes between chains without copying bytes: the references `slice()` and `writeFrom()`
 * link after a tail, and the splice of a whole chain that `append()` does. Internal: not
 * re-exported from the package entry point.
 *
 * Design after cloudwego/netpoll `nocopy_linkbuffer.go` (Apache-2.0): refcounted `Slice`,
 * `Append`. Re-designed for Node.js; no code was copied.
 */
import { kExposed, type LinkNode, referNode } from './link-buffer-node';
import { markClosed, type NodeChain, releaseRange } from './node-chain';
import { dropScratch } from './scratch-memory';

/**
 * Consumes `n` readable bytes of `chain` (the caller checked `n <= length`) by linking zero-copy
 * references to them after `tail` (each referenced root's count goes up by one), readable or
 * reserved; returns the last reference. The referenced nodes count as exposed.
 */
export function referAfter(
  chain: NodeChain,
  tail: LinkNode,
  n: number,
  readable: boolean,
): LinkNode {
  let node = chain.read;
  let remaining = n;
  let last = tail;
  for (;;) {
    const start = node.readOffset;
    const take = Math.min(node.committedEnd - start, remaining);
    if (take > 0) {
      const reference = referNode(node, start, start + take);
      reference.committedEnd = readable ? start + take : start;
      reference.mallocEnd = start + take;
      reference.capacityEnd = start + take;
      last.next = reference;
      last = reference;
      node.readOffset = start + take;
      node.flags |= kExposed;
      remaining -= take;
      if (remaining === 0) break;
    }
    node = node.next!;
  }
  chain.read = node;
  chain.length -= n;
  chain.peekLength = 0;
  return last;
}

/**
 * `append()` once its arguments are checked: moves all of `writer`'s unconsumed nodes onto
 * `chain`'s tail and closes `writer`.
 */
export function spliceChain(chain: NodeChain, writer: NodeChain): void {
  const first = writer.read;
  const last = writer.write;
  const readable = writer.length;
  const reserved = writer.mallocSize;
  const flush = writer.flush;
  // Detach the writer's chain: its consumed nodes and the spare nodes after its tail are freed.
  releaseRange(writer, writer.head, first);
  releaseRange(writer, last.next, null);
  last.next = null;
  dropScratch(writer);
  markClosed(writer);

  releaseRange(chain, chain.write.next, null);
  chain.write.next = first;
  chain.write = last;
  if (chain.mallocSize === 0) {
    chain.flush = flush;
    chain.length += readable;
    chain.fresh += readable;
    chain.mallocSize = reserved;
    return;
  }
  for (let node: LinkNode | null = first; node !== null; node = node.next) {
    node.committedEnd = node.readOffset;
  }
  chain.mallocSize += readable + reserved;
}
