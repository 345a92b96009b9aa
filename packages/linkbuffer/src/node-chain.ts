/**
 * The state of one LinkBuffer: its chain of nodes, the four cursors into it, the byte counts, and
 * the scratch memory its reads borrow. `LinkBuffer` and `LinkBufferReader` keep the fast paths of
 * their methods inline and hand everything else to the functions of the `chain-*` modules, which
 * all take this object. Internal: not re-exported from the package entry point.
 *
 * Design after cloudwego/netpoll `nocopy_linkbuffer.go` (Apache-2.0): the four cursors and the
 * refcounted nodes between them. Re-designed for Node.js; no code was copied.
 *
 * The chain and its cursors (x consumed, r readable, m reserved by malloc, . spare capacity):
 *
 * ```
 *   head            read                          flush               write
 *    |               |                              |                   |
 *    v               v                              v                   v
 * +--------+    +-----------+    +-----------+    +-----------+    +-----------+    +-------+
 * |xxxxxxxx| -> |xxxxx|rrrrr| -> |rrrrrrrrrrr| -> |rrrrr|mmmmm| -> |mmmmm|.....| -> |.......| -> null
 * +--------+    +-----------+    +-----------+    +-----------+    +-----------+    +-------+
 *  released at   read node:       readable        last committed    reservations    spare nodes
 *  release()     views alias it                   node              go here         (mallocAck)
 * ```
 *
 * Invariants that every method keeps:
 * - `head <= read <= flush <= write` along the chain; `length` bytes are readable, all of them in
 *   the committed ranges of the nodes from `read` to `flush`; nodes after `flush` hold no
 *   committed bytes.
 * - `mallocSize` bytes are reserved, in the ranges `[committedEnd, mallocEnd)` of the nodes from
 *   `flush` to `write`; nodes after `write` hold no reservation.
 * - Only nodes with `kWritable` take new reservations, only at `mallocEnd`, and only when they are
 *   `write` or after it, so byte order is the chain order.
 * - A Buffer a LinkBuffer hands out aliases node memory only while the node's root holds a count.
 */
import type { Buffer } from 'node:buffer';
import {
  ClosedError,
  InvalidArgumentError,
  integerError,
  NotEnoughDataError,
  ReadOnlyError,
} from './errors';
import {
  acquireNodeIn,
  kEmptyBuffer,
  kEmptyMemory,
  LinkNode,
  releaseNode,
} from './link-buffer-node';
import { kMcacheNodeAllocator, type NodeAllocator } from './node-allocator';
import { kPoisonByte, type ResolvedLinkBufferOptions } from './options';

/** The node every cursor points at once a buffer is closed: empty, never writable, never freed. */
export const kClosedNode = new LinkNode();

/** A node over no memory: what an empty buffer's cursors point at. */
export function emptyNode(): LinkNode {
  return acquireNodeIn(kEmptyBuffer, kEmptyMemory, 0, 0, 0, 0);
}

/** One LinkBuffer's chain, cursors and scratch memory (see the module comment). */
export class NodeChain {
  head: LinkNode; // oldest node not yet released
  read: LinkNode; // current read node
  flush: LinkNode; // last committed node
  write: LinkNode; // tail where reservations go
  length = 0; // readable bytes
  // forEachNewChunk's cursor. New readable bytes always join the tail, so the unvisited ones are
  // the last min(fresh, length): writers add to fresh, consuming reads leave it alone (no cost
  // on the read paths). cursor/cursorEnd: the node and offset just past the last visited byte,
  // meaningful only while fresh < length (a visited byte is still readable, so its node is live).
  fresh = 0;
  cursor: LinkNode = kClosedNode;
  cursorEnd = 0;
  mallocSize = 0; // reserved, not yet flushed bytes
  closed = false;
  readOnly = false;
  // The options' values; set once, by useOptions(), right after construction.
  allocator: NodeAllocator = kMcacheNodeAllocator;
  nodeSize = 0;
  poison = -1; // kPoisonByte in debug mode, else -1
  copies: Buffer[] | null = null; // pooled cross-node next() copies, freed at release()
  peekCache: Buffer = kEmptyBuffer; // reusable cross-node peek() copy
  peekPooled = false; // whether peekCache came from the allocator
  peekLength = 0; // bytes of peekCache that mirror the readable data

  constructor() {
    this.head = this.read = this.flush = this.write = emptyNode();
  }
}

/** Applies a buffer's resolved options to its new chain. */
export function useOptions(chain: NodeChain, options: ResolvedLinkBufferOptions): void {
  chain.allocator = options.allocator;
  chain.nodeSize = options.nodeSize;
  chain.poison = options.debug ? kPoisonByte : -1;
}

/** Moves `read` past fully consumed nodes, never past `flush`, and returns it. */
export function advanceRead(chain: NodeChain): LinkNode {
  let node = chain.read;
  const flush = chain.flush;
  while (node !== flush && node.readOffset === node.committedEnd) node = node.next!;
  chain.read = node;
  return node;
}

/** Validates a read size; returns 0 for "nothing to do" or `n`. Throws the coded errors. */
export function checkRead(chain: NodeChain, method: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw integerError('n', 'a non-negative integer', n);
  checkReadable(chain, method);
  if (n === 0) return 0;
  if (n > chain.length) throw new NotEnoughDataError(`${method}(${n})`, n, chain.length);
  return n;
}

export function checkReadable(chain: NodeChain, method: string): void {
  if (chain.closed) throw new ClosedError(method);
}

export function checkWritable(chain: NodeChain, method: string): void {
  if (chain.closed) throw new ClosedError(method);
  if (chain.readOnly) throw new ReadOnlyError(method);
}

/** Asks the allocator for `size` bytes and checks its contract. */
export function allocate(chain: NodeChain, size: number): Buffer {
  const memory = chain.allocator.allocate(size);
  // Only the length matters for memory safety; a non-Buffer fails the same comparison.
  if (!(memory?.length >= size)) {
    throw new InvalidArgumentError(
      `options.allocator.allocate(${size})`,
      `a Buffer of at least ${size} bytes`,
      memory,
    );
  }
  return memory;
}

/** Releases the nodes from `from` up to, not including, `to` (`null`: to the end). */
export function releaseRange(chain: NodeChain, from: LinkNode | null, to: LinkNode | null): void {
  let node = from;
  while (node !== null && node !== to) {
    const next = node.next;
    releaseNode(node, chain.poison);
    node = next;
  }
}

/** Points every cursor at {@link kClosedNode} and zeroes the counts; the nodes are not released. */
export function markClosed(chain: NodeChain): void {
  chain.closed = true;
  chain.head = kClosedNode;
  chain.read = kClosedNode;
  chain.flush = kClosedNode;
  chain.write = kClosedNode;
  chain.length = 0;
  chain.mallocSize = 0;
  chain.fresh = 0;
  chain.cursor = kClosedNode;
}
