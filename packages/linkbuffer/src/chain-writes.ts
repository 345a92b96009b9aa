/**
 * Writes over a {@link NodeChain} past the tail node's spare room: growing the chain, linking
 * caller memory zero-copy, and the reservation edits of `mallocAck()` and `writeDirect()`. The
 * fast paths (room in the tail node) stay inline in the LinkBuffer methods. Internal: not
 * re-exported from the package entry point.
 *
 * Design after cloudwego/netpoll `nocopy_linkbuffer.go` (Apache-2.0): `malloc`→`flush`, zero-copy
 * `WriteDirect` into a reservation. Re-designed for Node.js; no code was copied.
 */
import { Buffer } from 'node:buffer';
import { InvalidArgumentError, integerError, OutOfRangeError } from './errors';
import {
  acquireAllocated,
  acquireNode,
  kAllocated,
  kWritable,
  type LinkNode,
  referNode,
} from './link-buffer-node';
import { allocate, checkWritable, type NodeChain } from './node-chain';

/**
 * Returns a node at or after `write` with `n` bytes of spare writable room, appending a new
 * node of `max(n, nodeSize)` when none has it, and makes it the new `write`.
 */
export function growth(chain: NodeChain, n: number): LinkNode {
  let node = chain.write;
  for (;;) {
    if ((node.flags & kWritable) !== 0 && node.capacityEnd - node.mallocEnd >= n) break;
    const next = node.next;
    if (next === null) {
      const memory = allocate(chain, Math.max(n, chain.nodeSize));
      const fresh = acquireAllocated(chain.allocator, memory, kWritable | kAllocated);
      node.next = fresh;
      node = fresh;
      break;
    }
    node = next;
  }
  chain.write = node;
  return node;
}

/** Reserves `size` contiguous bytes at the tail and returns their node (they end at `mallocEnd`). */
export function claim(chain: NodeChain, method: string, size: number): LinkNode {
  let node = chain.write;
  if ((node.flags & kWritable) === 0 || node.mallocEnd + size > node.capacityEnd) {
    checkWritable(chain, method);
    node = growth(chain, size);
  }
  node.mallocEnd += size;
  chain.mallocSize += size;
  return node;
}

/** A root node over the caller's memory, reserved in full (zero-copy writes). */
export function userNode(data: Uint8Array): LinkNode {
  const buffer = Buffer.isBuffer(data)
    ? data
    : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const node = acquireNode(buffer, 0, buffer.length, 0);
  node.mallocEnd = buffer.length;
  return node;
}

/** Links `node` right after `write` (before any spare nodes) and makes it the new `write`. */
export function linkAfterWrite(chain: NodeChain, node: LinkNode): void {
  const write = chain.write;
  node.next = write.next;
  write.next = node;
  chain.write = node;
}

/** `mallocAck(n)`: keeps the first `n` reserved bytes and discards the rest. */
export function keepReserved(chain: NodeChain, n: number): void {
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('n', 'an integer', n);
  checkWritable(chain, 'mallocAck');
  if (n < 0 || n > chain.mallocSize) {
    throw new OutOfRangeError('n', `an integer from 0 to mallocLen() = ${chain.mallocSize}`, n);
  }
  let node = chain.flush;
  let keep = n;
  for (;;) {
    const reserved = node.mallocEnd - node.committedEnd;
    if (keep <= reserved) break;
    keep -= reserved;
    node = node.next!;
  }
  node.mallocEnd = node.committedEnd + keep;
  chain.write = node;
  for (let rest = node.next; rest !== null; rest = rest.next) rest.mallocEnd = rest.committedEnd;
  chain.mallocSize = n;
}

/** `writeDirect(data, remainCap)`: links `data` zero-copy `remainCap` bytes before the tail. */
export function insertDirect(chain: NodeChain, data: Uint8Array, remainCap: number): void {
  if (!(data instanceof Uint8Array)) {
    throw new InvalidArgumentError('data', 'a Uint8Array or Buffer', data);
  }
  if (!Number.isSafeInteger(remainCap) || remainCap < 0) {
    throw integerError('remainCap', 'a non-negative integer', remainCap);
  }
  checkWritable(chain, 'writeDirect');
  if (data.length === 0) return;
  if (remainCap > chain.mallocSize) {
    throw new OutOfRangeError('remainCap', `at most mallocLen() = ${chain.mallocSize}`, remainCap);
  }
  let node = chain.flush;
  let before = chain.mallocSize - remainCap;
  for (;;) {
    const reserved = node.mallocEnd - node.committedEnd;
    if (before <= reserved) break;
    before -= reserved;
    node = node.next!;
  }
  const split = node.committedEnd + before;
  const inserted = userNode(data);
  const after = node.next;
  node.next = inserted;
  if (split < node.mallocEnd) {
    // The reserved bytes after the insertion point move to a reference node that also inherits
    // the spare capacity, so later reservations still follow them in chain order.
    const rest = referNode(node, split, node.capacityEnd);
    rest.mallocEnd = node.mallocEnd;
    rest.flags = node.flags & kWritable;
    rest.next = after;
    inserted.next = rest;
    node.mallocEnd = split;
    node.capacityEnd = split;
    node.flags &= ~kWritable;
    if (chain.write === node) chain.write = rest;
  } else {
    inserted.next = after;
    if (chain.write === node) chain.write = inserted;
  }
  chain.mallocSize += data.length;
}
