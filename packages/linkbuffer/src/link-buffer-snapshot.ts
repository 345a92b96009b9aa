/**
 * A summary of a LinkBuffer's internal state, for tests and debugging (`inspectLinkBuffer`).
 * Internal: not re-exported from the package entry point.
 */
import type { LinkNode } from './link-buffer-node';
import { kClosedNode, type NodeChain } from './node-chain';

/** Internal state summary for tests and debugging (see `inspectLinkBuffer`). */
export interface LinkBufferSnapshot {
  /** Nodes in the chain, from head to the last node. */
  readonly nodes: number;
  /** Whether `head` and `read` are the same node (true right after `release()`). */
  readonly headIsRead: boolean;
  /** Pooled cross-node `next()` copies recorded until `release()`. */
  readonly recordedCopies: number;
  /** Capacity of the peek cache in bytes (0 when none is held). */
  readonly peekCacheSize: number;
  /** Bytes of the peek cache that currently mirror readable data. */
  readonly peekLength: number;
  /** Reference count of each node's root, head to tail. */
  readonly rootRefs: readonly number[];
  readonly closed: boolean;
  readonly readOnly: boolean;
}

/** The snapshot of one buffer's chain. */
export function snapshotChain(chain: NodeChain): LinkBufferSnapshot {
  const rootRefs: number[] = [];
  for (let node: LinkNode | null = chain.head; node !== null; node = node.next) {
    if (node === kClosedNode) break;
    rootRefs.push((node.origin ?? node).refs);
  }
  return {
    nodes: rootRefs.length,
    headIsRead: chain.head === chain.read,
    recordedCopies: chain.copies?.length ?? 0,
    peekCacheSize: chain.peekCache.length,
    peekLength: chain.peekLength,
    rootRefs,
    closed: chain.closed,
    readOnly: chain.readOnly,
  };
}
