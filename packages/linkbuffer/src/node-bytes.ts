/**
 * Byte helpers over one node's memory: the copy and the search the chain walks are built from.
 * Internal: not re-exported from the package entry point.
 */
import type { Buffer } from 'node:buffer';
import type { LinkNode } from './link-buffer-node';

/** Copies of at most this many bytes between nodes use a plain loop instead of a view + `set()`. */
const kLoopCopyMax = 64;

/**
 * Copies `node`'s bytes `[start, end)` to `target[at…]`; the caller checked the bounds.
 * `Buffer.prototype.copy` validates its arguments and reads `buffer`/`byteOffset` on every call;
 * a plain Uint8Array over the node's cached memory plus `set()` (a memmove) skips all of that.
 */
export function copyFrom(
  node: LinkNode,
  start: number,
  end: number,
  target: Uint8Array,
  at: number,
): void {
  if (end - start <= kLoopCopyMax) {
    // A few bytes: a loop costs less than the view `set()` needs, and allocates nothing.
    const buf = node.buf;
    for (let i = start, to = at; i < end; i++, to++) target[to] = buf[i]!;
    return;
  }
  target.set(new Uint8Array(node.memory, node.memoryOffset + start, end - start), at);
}

/** Index of `byte` in `buffer[from, end)`, or -1, without scanning past `end`. */
export function indexIn(buffer: Buffer, byte: number, from: number, end: number): number {
  if (end - from <= 32) {
    for (let i = from; i < end; i++) if (buffer[i] === byte) return i;
    return -1;
  }
  if (buffer.length - end <= 4096) {
    const hit = buffer.indexOf(byte, from);
    return hit >= 0 && hit < end ? hit : -1;
  }
  const hit = buffer.subarray(from, end).indexOf(byte);
  return hit >= 0 ? from + hit : -1;
}
