/**
 * The node record of a LinkBuffer chain, its flags, and the free list that recycles node records.
 * Internal: not re-exported from the package entry point.
 *
 * Design after cloudwego/netpoll `linkBufferNode` (`nocopy_linkbuffer.go`), Apache-2.0.
 * Re-designed: a node stores one Buffer plus absolute offsets into it instead of a sub-slice per
 * node, so a borrowed slab region needs no view object; no code was copied.
 */
import { Buffer } from 'node:buffer';
import type { NodeAllocator } from './node-allocator';
import type { RegionOwner } from './region-owner';

/** Spare capacity after `mallocEnd` may take new reservations (allocated memory only). */
export const kWritable = 1;
/** The memory came from `allocator` and goes back to it at reference count 0. */
export const kAllocated = 2;
/** The memory is a region lent by `owner`; `owner.releaseRegion(token)` runs at count 0. */
export const kBorrowed = 4;
/** A view of this node was handed out, so `read()` must keep it until `release()`. */
export const kExposed = 8;

/** A zero-length Buffer shared by empty nodes and empty results. Never written to. */
export const kEmptyBuffer: Buffer = Buffer.alloc(0);
export const kEmptyMemory: ArrayBufferLike = kEmptyBuffer.buffer;

/**
 * One link of the chain. Offsets index `buf` directly and always satisfy
 * `base <= readOffset <= committedEnd <= mallocEnd <= capacityEnd <= buf.length`:
 *
 * ```
 *  base      readOffset      committedEnd      mallocEnd       capacityEnd
 *   |  consumed  |   readable     |   reserved    |  spare (kWritable only)
 * ```
 *
 * A node with `origin === null` is a root: it owns its memory (allocated, borrowed, or the
 * caller's for zero-copy writes) and `refs` counts the chain that holds it plus every reference
 * node pointing at it. A reference node (`slice()`, or the tail part of a `writeDirect()` split)
 * shares its root's memory; its own `refs` is unused. Memory is given back only when the root's
 * count reaches 0, so poisoning it then can never hit bytes another node still shows.
 */
export class LinkNode {
  buf: Buffer = kEmptyBuffer;
  /**
   * `buf.buffer` and `buf.byteOffset`, read once per node: the two getters cost more than the
   * view object itself on V8, so views are built from these.
   */
  memory: ArrayBufferLike = kEmptyMemory;
  memoryOffset = 0;
  base = 0;
  readOffset = 0;
  committedEnd = 0;
  mallocEnd = 0;
  capacityEnd = 0;
  refs = 0;
  flags = 0;
  origin: LinkNode | null = null;
  allocator: NodeAllocator | null = null;
  owner: RegionOwner | null = null;
  token = 0;
  next: LinkNode | null = null;
}

/** Upper bound on idle node records kept for reuse (shared by every LinkBuffer of the thread). */
const kNodePoolLimit = 4096;
const nodePool: LinkNode[] = [];

/** Takes a cleared node record from the free list (or makes one) over `buf[start, end)`. */
export function acquireNode(buf: Buffer, start: number, end: number, flags: number): LinkNode {
  return acquireNodeIn(buf, buf.buffer, buf.byteOffset, start, end, flags);
}

/**
 * A node over all of `buf`, which `allocator.allocate()` just returned, owned by `allocator`: its
 * memory and offset from the allocator when it gives them (`lastMemory`), else from the getters.
 */
export function acquireAllocated(allocator: NodeAllocator, buf: Buffer, flags: number): LinkNode {
  const memory = allocator.lastMemory;
  const node =
    memory === undefined
      ? acquireNode(buf, 0, buf.length, flags)
      : acquireNodeIn(buf, memory, allocator.lastByteOffset!, 0, buf.length, flags);
  node.allocator = allocator;
  return node;
}

/**
 * {@link acquireNode} with `buf.buffer` and `buf.byteOffset` already known (the getters are calls
 * into the runtime): a reference reuses its source's, a region its buffer's cached ones.
 */
export function acquireNodeIn(
  buf: Buffer,
  memory: ArrayBufferLike,
  memoryOffset: number,
  start: number,
  end: number,
  flags: number,
): LinkNode {
  const node = nodePool.pop() ?? new LinkNode();
  node.buf = buf;
  node.memory = memory;
  node.memoryOffset = memoryOffset;
  node.base = start;
  node.readOffset = start;
  node.committedEnd = start;
  node.mallocEnd = start;
  node.capacityEnd = end;
  node.refs = 1;
  node.flags = flags;
  return node;
}

/** Makes a reference node over `[start, end)` of `source`'s memory, counting against its root. */
export function referNode(source: LinkNode, start: number, end: number): LinkNode {
  const root = source.origin ?? source;
  const node = acquireNodeIn(source.buf, source.memory, source.memoryOffset, start, end, 0);
  node.origin = root;
  root.refs++;
  return node;
}

function recycleNode(node: LinkNode): void {
  node.buf = kEmptyBuffer;
  node.memory = kEmptyMemory;
  node.origin = null;
  node.allocator = null;
  node.owner = null;
  node.next = null;
  node.flags = 0;
  node.refs = 0;
  if (nodePool.length < kNodePoolLimit) nodePool.push(node);
}

function dropRoot(root: LinkNode, poison: number): void {
  if (--root.refs > 0) return;
  const flags = root.flags;
  if ((flags & kAllocated) !== 0) {
    if (poison >= 0) root.buf.fill(poison);
    (root.allocator as NodeAllocator).free(root.buf, root.memory, root.memoryOffset);
  } else if ((flags & kBorrowed) !== 0) {
    if (poison >= 0) root.buf.fill(poison, root.base, root.capacityEnd);
    (root.owner as RegionOwner).releaseRegion(root.token);
  }
  recycleNode(root);
}

/**
 * Drops one chain's hold on `node`: a reference node is recycled at once and its root loses one
 * count; a root loses its own count. Memory goes back (after poisoning when `poison >= 0`) only at
 * count 0. The caller must not touch `node` afterwards.
 */
export function releaseNode(node: LinkNode, poison: number): void {
  const root = node.origin;
  if (root === null) {
    dropRoot(node, poison);
    return;
  }
  recycleNode(node);
  dropRoot(root, poison);
}
