/**
 * LinkBuffer: a zero-copy chain of memory nodes with a two-phase writer and a view-returning reader.
 *
 * Design after cloudwego/netpoll `nocopy_linkbuffer.go` and `nocopy.go` (Apache-2.0): the four
 * cursors, refcounted `slice()`, `malloc()`→`flush()`, cross-node copies recorded until `release()`,
 * the single reusable peek cache, and zero-copy `writeBinary()` above 4 KiB. Re-designed for
 * Node.js (nodes hold one Buffer plus absolute offsets, borrowed regions, a pluggable allocator,
 * coded errors instead of panics); no code was copied.
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
 * - `head <= read <= flush <= write` along the chain; `#length` bytes are readable, all of them in
 *   the committed ranges of the nodes from `read` to `flush`; nodes after `flush` hold no
 *   committed bytes.
 * - `#mallocSize` bytes are reserved, in the ranges `[committedEnd, mallocEnd)` of the nodes from
 *   `flush` to `write`; nodes after `write` hold no reservation.
 * - Only nodes with `kWritable` take new reservations, only at `mallocEnd`, and only when they are
 *   `write` or after it, so byte order is the chain order.
 * - A Buffer this class hands out aliases node memory only while the node's root holds a count.
 */
import { Buffer } from 'node:buffer';
import {
  bigUint64At,
  checkBigUint64,
  checkUint16,
  checkUint32,
  kIntegerScratch,
  putBigUint64,
  putUint16,
  putUint32,
  uint16At,
  uint32At,
} from './big-endian';
import { type ChunkVisitor, checkMaxChunks } from './chunk-visitor';
import {
  ClosedError,
  DelimiterNotFoundError,
  InvalidArgumentError,
  integerError,
  NotEnoughDataError,
  OutOfRangeError,
  ReadOnlyError,
} from './errors';
import {
  acquireNode,
  acquireNodeIn,
  kAllocated,
  kBorrowed,
  kEmptyBuffer,
  kEmptyMemory,
  kExposed,
  kWritable,
  LinkNode,
  referNode,
  releaseNode,
} from './link-buffer-node';
import { kMaxPooledSize, type NodeAllocator } from './node-allocator';
import { copyFrom, indexIn } from './node-bytes';
import {
  kPoisonByte,
  type LinkBufferOptions,
  type ResolvedLinkBufferOptions,
  resolveLinkBufferOptions,
} from './options';
import { throwRegionBoundsError } from './region-bounds';
import type { RegionOwner } from './region-owner';
import { viewIn, viewOf } from './view';

export type { ChunkVisitor } from './chunk-visitor';

/** `writeBinary()` links the caller's memory instead of copying above this size (bytes). */
export const kBinaryInplaceThreshold = 4096;

/**
 * `writeFrom` copies at most this many bytes (with a plain loop, which allocates nothing); larger
 * moves share the source nodes. Small copies keep tiny pieces from forming chains of tiny nodes.
 */
export const kWriteFromCopyMax = 64;

/** Cross-node `next()` copies larger than this (and ≤ 8 MiB) use pooled, recorded memory. */
const kPooledCopyMin = 1024;
/** After `flush()`, a tail node with more capacity than this takes no new reservations. */
const kSealCapacity = 8192;
/** Smallest peek cache requested from the allocator, so tiny peeks do not regrow it each time. */
const kMinPeekCache = 64;

/** The node every cursor points at once a buffer is closed: empty, never writable, never freed. */
const kClosedNode = new LinkNode();

/** A node over no memory: what an empty buffer's cursors point at. */
function emptyNode(): LinkNode {
  return acquireNodeIn(kEmptyBuffer, kEmptyMemory, 0, 0, 0, 0);
}

/** Internal state summary for tests and debugging (see {@link inspectLinkBuffer}). */
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

let snapshotOf: (buffer: LinkBuffer) => LinkBufferSnapshot;

/**
 * A chain of memory nodes with netpoll's Reader and Writer semantics. Single-threaded by nature:
 * one producer (`malloc`/`write*`/`flush`/`appendRegion`) and one consumer (`next`/`peek`/…/
 * `release`) may interleave freely, as netpoll allows one reader and one writer goroutine.
 *
 * Lifetime rule for every Buffer a read method returns unless it says "copy": it may alias pooled
 * node memory and is valid until the next `release()` (or `slice()`, which releases) of this
 * buffer; afterwards it may show another user's bytes, or {@link kPoisonByte} in debug mode.
 */
export class LinkBuffer {
  /** The resolved options; pass them to another `new LinkBuffer()` to skip validation. */
  readonly options: ResolvedLinkBufferOptions;

  #head: LinkNode; // oldest node not yet released
  #read: LinkNode; // current read node
  #flush: LinkNode; // last committed node
  #write: LinkNode; // tail where reservations go
  #length = 0; // readable bytes
  // forEachNewChunk's cursor. New readable bytes always join the tail, so the unvisited ones are
  // the last min(#fresh, #length): writers add to #fresh, consuming reads leave it alone (no cost
  // on the read paths). #cursor/#cursorEnd: the node and offset just past the last visited byte,
  // meaningful only while #fresh < #length (a visited byte is still readable, so its node is live).
  #fresh = 0;
  #cursor: LinkNode = kClosedNode;
  #cursorEnd = 0;
  #mallocSize = 0; // reserved, not yet flushed bytes
  #closed = false;
  #readOnly = false;
  readonly #allocator: NodeAllocator;
  readonly #nodeSize: number;
  readonly #poison: number; // kPoisonByte in debug mode, else -1
  #copies: Buffer[] | null = null; // pooled cross-node next() copies, freed at release()
  #peekCache: Buffer = kEmptyBuffer; // reusable cross-node peek() copy
  #peekPooled = false; // whether #peekCache came from the allocator
  #peekLength = 0; // bytes of #peekCache that mirror the readable data
  // The Buffer of the last appendRegion and its getters, read once: a reader is fed regions of
  // the same few slabs, and the getters are calls into the runtime.
  #regionBuffer: Buffer = kEmptyBuffer;
  #regionMemory: ArrayBufferLike = kEmptyMemory;
  #regionOffset = 0;

  static {
    snapshotOf = (buffer) => buffer.#snapshot();
  }

  /**
   * Creates an empty buffer. Options are validated here, once (`ERR_NETPOLL_INVALID_ARG`,
   * `ERR_NETPOLL_OUT_OF_RANGE`); see {@link LinkBufferOptions}.
   */
  constructor(options?: LinkBufferOptions) {
    this.options = resolveLinkBufferOptions(options);
    this.#allocator = this.options.allocator;
    this.#nodeSize = this.options.nodeSize;
    this.#poison = this.options.debug ? kPoisonByte : -1;
    this.#head = this.#read = this.#flush = this.#write = emptyNode();
  }

  // ---- sizes ----------------------------------------------------------------------------------

  /** Readable bytes right now. Never throws; 0 after `close()`. */
  len(): number {
    return this.#length;
  }

  /** True when no byte is readable. Never throws. */
  isEmpty(): boolean {
    return this.#length === 0;
  }

  /** Bytes reserved by the writer and not yet flushed (malloc, write*, writeDirect, append). */
  mallocLen(): number {
    return this.#mallocSize;
  }

  /** True once `close()` ran or the buffer was emptied into another one by `append()`. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True for buffers returned by `slice()`: every writer method throws `ERR_NETPOLL_LINKBUFFER_READ_ONLY`. */
  get readOnly(): boolean {
    return this.#readOnly;
  }

  // ---- zero-copy reader -----------------------------------------------------------------------

  /**
   * Consumes and returns the next `n` bytes. Inside one node the result is a view of node memory
   * (no copy), and so it is across nodes that lie back to back in one memory (consecutive regions
   * of one slab); otherwise it is one contiguous copy, from pooled memory recorded until
   * `release()` when 1 KiB < n ≤ 8 MiB, else a plain allocation. Either way it is valid until the
   * next `release()`. `n = 0` returns an empty Buffer and consumes nothing.
   * Throws `ERR_NETPOLL_LINKBUFFER_NOT_ENOUGH` (nothing consumed), `ERR_NETPOLL_OUT_OF_RANGE`
   * (negative; netpoll treats it as 0), `ERR_NETPOLL_INVALID_ARG` (not a safe integer),
   * `ERR_NETPOLL_CLOSED`.
   */
  next(n: number): Buffer {
    const node = this.#read;
    const start = node.readOffset;
    if (typeof n === 'number' && n === (n | 0) && n > 0 && start + n <= node.committedEnd) {
      node.readOffset = start + n;
      node.flags |= kExposed;
      this.#length -= n;
      this.#peekLength = 0;
      return viewIn(node.memory, node.memoryOffset + start, n);
    }
    return this.#nextSlow(n);
  }

  /**
   * Returns the next `n` bytes without consuming them. Inside one node: a view (valid until
   * `release()`). Across nodes: a view of the buffer's single reusable peek cache, valid until the
   * next consuming read followed by another cross-node `peek()`, which overwrites it, or until
   * `release()`, whichever comes first. Errors as {@link LinkBuffer.next}.
   */
  peek(n: number): Buffer {
    const node = this.#read;
    const start = node.readOffset;
    if (typeof n === 'number' && n === (n | 0) && n > 0 && start + n <= node.committedEnd) {
      node.flags |= kExposed;
      return viewIn(node.memory, node.memoryOffset + start, n);
    }
    return this.#peekSlow(n);
  }

  /** Consumes `n` bytes without copying. `n = 0` is a no-op. Errors as {@link LinkBuffer.next}. */
  skip(n: number): void {
    const node = this.#read;
    if (
      typeof n === 'number' &&
      n === (n | 0) &&
      n > 0 &&
      node.readOffset + n <= node.committedEnd
    ) {
      node.readOffset += n;
      this.#length -= n;
      this.#peekLength = 0;
      return;
    }
    if (this.#checkRead('skip', n) > 0) this.#consume(n, null, 0);
  }

  /**
   * Consumes and returns the next `n` bytes as a UTF-8 decoded string (always a copy; safe after
   * `release()`). `n = 0` returns `''`. Errors as {@link LinkBuffer.next}.
   */
  readString(n: number): string {
    const node = this.#read;
    const start = node.readOffset;
    if (typeof n === 'number' && n === (n | 0) && n > 0 && start + n <= node.committedEnd) {
      node.readOffset = start + n;
      this.#length -= n;
      this.#peekLength = 0;
      return node.buf.toString('utf8', start, start + n);
    }
    if (this.#checkRead('readString', n) === 0) return '';
    const scratch = Buffer.allocUnsafe(n);
    this.#consume(n, scratch, 0);
    return scratch.toString('utf8');
  }

  /**
   * Consumes the next `n` bytes into a new Buffer the caller owns (always a copy, never pooled;
   * safe after `release()`). `n = 0` returns an empty Buffer. Errors as {@link LinkBuffer.next}.
   */
  readBinary(n: number): Buffer {
    if (this.#checkRead('readBinary', n) === 0) return Buffer.alloc(0);
    const out = Buffer.allocUnsafe(n);
    this.#consume(n, out, 0);
    return out;
  }

  /**
   * Consumes and returns one byte (0–255), across node boundaries.
   * Throws `ERR_NETPOLL_LINKBUFFER_NOT_ENOUGH` when empty, `ERR_NETPOLL_CLOSED`.
   */
  readByte(): number {
    let node = this.#read;
    if (node.readOffset >= node.committedEnd) {
      this.#checkReadable('readByte');
      if (this.#length === 0) throw new NotEnoughDataError('readByte()', 1, 0);
      node = this.#advanceRead();
    }
    this.#length--;
    this.#peekLength = 0;
    return node.buf[node.readOffset++]!;
  }

  /**
   * Consumes bytes up to and including the first `delimiter` (a byte 0–255), with
   * {@link LinkBuffer.next}'s view-or-copy rules. Never waits: when no delimiter is readable it
   * throws `ERR_NETPOLL_LINKBUFFER_DELIMITER_NOT_FOUND` and consumes nothing. Throws
   * `ERR_NETPOLL_OUT_OF_RANGE` for an integer outside 0–255, `ERR_NETPOLL_INVALID_ARG` for anything
   * else that is not an integer, `ERR_NETPOLL_CLOSED`.
   */
  until(delimiter: number): Buffer {
    if (typeof delimiter !== 'number' || delimiter !== (delimiter & 0xff)) {
      throw integerError('delimiter', 'an integer from 0 to 255', delimiter);
    }
    this.#checkReadable('until');
    const index = this.#indexOf(delimiter, 0);
    if (index < 0) throw new DelimiterNotFoundError(delimiter, this.#length);
    return this.#nextSlow(index + 1);
  }

  /**
   * Offset (from the read position) of the first `byte` at or after offset `skip` among the
   * readable bytes, or -1. Does not consume. `skip` lets a caller scan only bytes it has not
   * scanned yet. Throws `ERR_NETPOLL_OUT_OF_RANGE` for a byte outside 0–255 or a negative `skip`,
   * `ERR_NETPOLL_INVALID_ARG` for either when it is not an integer, `ERR_NETPOLL_CLOSED`.
   */
  indexByte(byte: number, skip = 0): number {
    if (typeof byte !== 'number' || byte !== (byte & 0xff)) {
      throw integerError('byte', 'an integer from 0 to 255', byte);
    }
    if (!Number.isSafeInteger(skip) || skip < 0) {
      throw integerError('skip', 'a non-negative integer', skip);
    }
    this.#checkReadable('indexByte');
    return this.#indexOf(byte, skip);
  }

  /**
   * Consumes `n` bytes and returns them as a new **read-only** LinkBuffer whose nodes reference
   * this buffer's memory (zero copy; each referenced root's count goes up by one). Then calls
   * `release()` on this buffer, so earlier views from it become invalid. The slice keeps the
   * bytes alive after this buffer is released or rewritten; its consumer must `release()` or
   * `close()` it so the memory can go back. `n = 0` returns an empty read-only buffer without
   * releasing this one. Errors as {@link LinkBuffer.next}.
   */
  slice(n: number): LinkBuffer {
    const out = new LinkBuffer(this.options);
    out.#readOnly = true;
    if (this.#checkRead('slice', n) === 0) return out;
    const tail = this.#referAfter(out.#write, n, true);
    out.#flush = tail;
    out.#write = tail;
    out.#length = n;
    out.#fresh = n;
    this.#releaseConsumed();
    return out;
  }

  /**
   * Copies `min(target.length, len())` bytes into `target` and consumes them (netpoll's
   * `readCopy`). Unlike `next()` + `release()` it keeps earlier views valid: consumed nodes that
   * were never exposed are freed at once, exposed ones stay until `release()`. Returns the count
   * (0 for an empty target or buffer). Throws `ERR_NETPOLL_INVALID_ARG`, `ERR_NETPOLL_CLOSED`.
   */
  read(target: Uint8Array): number {
    if (!(target instanceof Uint8Array)) {
      throw new InvalidArgumentError('target', 'a Uint8Array or Buffer', target);
    }
    this.#checkReadable('read');
    const n = Math.min(target.length, this.#length);
    if (n === 0) return 0;
    this.#consume(n, target, 0);
    this.#advanceRead();
    const read = this.#read;
    let previous: LinkNode | null = null;
    let node = this.#head;
    while (node !== read) {
      const next = node.next!;
      if ((node.flags & kExposed) !== 0) {
        previous = node;
      } else {
        if (previous === null) this.#head = next;
        else previous.next = next;
        releaseNode(node, this.#poison);
      }
      node = next;
    }
    return n;
  }

  /**
   * All readable bytes without consuming them: a view when they sit in one node or in nodes back
   * to back in one memory, else a fresh copy (not pooled). Valid until `release()`.
   * Throws `ERR_NETPOLL_CLOSED`.
   */
  bytes(): Buffer {
    this.#checkReadable('bytes');
    if (this.#length === 0) return kEmptyBuffer;
    const node = this.#advanceRead();
    const start = node.readOffset;
    if (node.committedEnd - start >= this.#length) {
      node.flags |= kExposed;
      return viewIn(node.memory, node.memoryOffset + start, this.#length);
    }
    const span = this.#spanView(node, this.#length);
    if (span !== null) return span;
    const out = Buffer.allocUnsafe(this.#length);
    this.#copyOut(0, out, 0, this.#length);
    return out;
  }

  /**
   * Views of the readable nodes, in order, at most `maxChunks` of them (default all), without
   * consuming (netpoll `GetBytes`). Each is valid until `release()`. Allocates the array and one
   * view per chunk; see {@link LinkBuffer.forEachChunk} for the allocation-free form.
   * Throws `ERR_NETPOLL_INVALID_ARG`/`ERR_NETPOLL_OUT_OF_RANGE` unless `maxChunks` is a
   * non-negative integer or `Infinity`, `ERR_NETPOLL_CLOSED`.
   */
  getBytes(maxChunks = Number.POSITIVE_INFINITY): Buffer[] {
    checkMaxChunks(maxChunks);
    this.#checkReadable('getBytes');
    const views: Buffer[] = [];
    this.#walkChunks((buffer, start, end) => {
      views.push(viewOf(buffer, start, end));
    }, maxChunks);
    return views;
  }

  /**
   * Calls `visitor(buffer, start, end, retained, memory, memoryOffset)` for each non-empty
   * readable chunk in order, up to `maxChunks` (default all) or until it returns `false`, without
   * consuming and without allocating. Returns the number of chunks visited. This is the iovec source for a writev; after
   * sending `k` bytes, call `skip(k)` and `release()`. Throws `ERR_NETPOLL_INVALID_ARG` (a
   * visitor that is not a function, a `maxChunks` that is not an integer or `Infinity`),
   * `ERR_NETPOLL_OUT_OF_RANGE` (a negative `maxChunks`), `ERR_NETPOLL_CLOSED`.
   */
  forEachChunk(visitor: ChunkVisitor, maxChunks = Number.POSITIVE_INFINITY): number {
    if (typeof visitor !== 'function') {
      throw new InvalidArgumentError('visitor', 'a function', visitor);
    }
    checkMaxChunks(maxChunks);
    this.#checkReadable('forEachChunk');
    return this.#walkChunks(visitor, maxChunks);
  }

  /**
   * Calls `visitor(buffer, start, end, retained)` for the readable bytes that no earlier call of
   * this method visited, in order, chunk by chunk, and moves this method's cursor past them: each
   * flushed byte is visited at most once, and a call costs O(new chunks), however many visited
   * chunks are still readable (a writer draining into a socket hands each flushed chunk to the
   * kernel once without walking what is already queued). Does not consume and allocates nothing.
   * Returns the number of chunks visited (0 when nothing is new).
   *
   * The cursor follows the bytes, not the nodes, so it stays right across `append`, `writeFrom`,
   * `writeDirect`, `malloc`/`mallocAck` and `trim()`: bytes flushed into a node it already visited
   * part of are visited from where it stopped. Visited bytes are consumed as usual (`skip(k)` once
   * they are sent, then `release()`). When a consuming read goes past the cursor, the bytes it
   * consumed are never visited and the next call starts at the read position. `forEachChunk` and
   * other readers neither use nor move the cursor.
   *
   * A visitor returning `false` stops the walk after that chunk, which counts as visited. A
   * visitor that throws stops it before: that chunk does not count, and the next call visits it
   * again (so a consumer that failed to take it loses nothing). The visitor must not call methods
   * of this buffer.
   * The triples are valid as for {@link LinkBuffer.forEachChunk}. An extension beyond netpoll.
   * Throws `ERR_NETPOLL_INVALID_ARG` (not a function), `ERR_NETPOLL_CLOSED`.
   */
  forEachNewChunk(visitor: ChunkVisitor): number {
    if (typeof visitor !== 'function') {
      throw new InvalidArgumentError('visitor', 'a function', visitor);
    }
    this.#checkReadable('forEachNewChunk');
    let fresh = this.#fresh;
    let node: LinkNode;
    let start: number;
    if (fresh < this.#length) {
      if (fresh === 0) return 0;
      // Some visited bytes are still readable, so the node holding the last one is not released.
      node = this.#cursor;
      start = this.#cursorEnd;
    } else {
      // Nothing visited is readable any more: every readable byte is new. (#fresh may exceed
      // #length; the loop below stores the exact count.)
      fresh = this.#length;
      if (fresh === 0) return 0;
      node = this.#read;
      start = node.readOffset;
    }
    let count = 0;
    for (;;) {
      const end = node.committedEnd;
      if (end > start) {
        node.flags |= kExposed;
        const retained = ((node.origin ?? node).flags & (kAllocated | kBorrowed)) !== 0;
        // The cursor moves past the chunk only once the visitor returned (see above).
        const stop =
          visitor(node.buf, start, end, retained, node.memory, node.memoryOffset) === false;
        fresh -= end - start;
        count++;
        this.#fresh = fresh;
        this.#cursor = node;
        this.#cursorEnd = end;
        if (stop || fresh === 0) break;
      }
      node = node.next!;
      start = node.readOffset;
    }
    return count;
  }

  #walkChunks(visitor: ChunkVisitor, maxChunks: number): number {
    let node = this.#read;
    let remaining = this.#length;
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

  /**
   * Frees every fully consumed node before the read node (the read node itself survives, so a
   * view into its unread part keeps working in practice, but the contract still ends every view
   * here), every recorded cross-node `next()` copy, and the peek cache. A node's memory goes back
   * to the allocator (or its region owner) when no slice refers to it. No-op after `close()`.
   */
  release(): void {
    if (!this.#closed) this.#releaseConsumed();
  }

  /**
   * `release()`, and then, if nothing is readable or reserved, also the last node, which
   * `release()` keeps because later bytes would follow it: the buffer then holds no node memory
   * (no allocator memory, no lent region, no spare capacity). A connection that goes quiet uses it
   * so its reader does not keep the region of its last message — and a whole slab with it. Views
   * handed out earlier end here, as with `release()`. No-op after `close()`. An extension beyond
   * netpoll.
   */
  trim(): void {
    if (this.#closed) return;
    this.#releaseConsumed();
    if (this.#length !== 0 || this.#mallocSize !== 0) return;
    const head = this.#head;
    if (head.buf === kEmptyBuffer && head.next === null) return;
    this.#releaseRange(head, null);
    this.#head = this.#read = this.#flush = this.#write = emptyNode();
  }

  /** `release()` for an open buffer; internal callers use it so subclass overrides stay out. */
  #releaseConsumed(): void {
    const read = this.#advanceRead();
    let node = this.#head;
    while (node !== read) {
      const next = node.next!;
      releaseNode(node, this.#poison);
      node = next;
    }
    this.#head = read;
    // Views of the read node ended here: `evacuate()` may move its bytes again.
    read.flags &= ~kExposed;
    this.#dropScratch();
  }

  // ---- two-phase writer -----------------------------------------------------------------------

  /**
   * Reserves `n` contiguous bytes at the tail and returns them (never split across nodes; a node
   * of at least `max(n, nodeSize)` is added when the tail lacks room). Not zeroed, not readable
   * until `flush()`. The view is valid until the next `flush()`/`mallocAck()`. `n = 0` returns
   * an empty Buffer. Throws `ERR_NETPOLL_OUT_OF_RANGE` (negative; netpoll treats it as 0),
   * `ERR_NETPOLL_INVALID_ARG`, `ERR_NETPOLL_LINKBUFFER_READ_ONLY`, `ERR_NETPOLL_CLOSED`.
   */
  malloc(n: number): Buffer {
    const node = this.#write;
    const start = node.mallocEnd;
    if (
      typeof n === 'number' &&
      n === (n | 0) &&
      n > 0 &&
      (node.flags & kWritable) !== 0 &&
      start + n <= node.capacityEnd
    ) {
      node.mallocEnd = start + n;
      this.#mallocSize += n;
      return viewIn(node.memory, node.memoryOffset + start, n);
    }
    if (!Number.isSafeInteger(n) || n < 0) throw integerError('n', 'a non-negative integer', n);
    this.#checkWritable('malloc');
    if (n === 0) return kEmptyBuffer;
    const target = this.#growth(n);
    const from = target.mallocEnd;
    target.mallocEnd = from + n;
    this.#mallocSize += n;
    return viewIn(target.memory, target.memoryOffset + from, n);
  }

  /**
   * Keeps only the first `n` reserved bytes (they may span nodes) and discards the rest;
   * `mallocAck(0)` discards everything. Throws `ERR_NETPOLL_OUT_OF_RANGE` when `n < 0` or
   * `n > mallocLen()`, `ERR_NETPOLL_INVALID_ARG`, `ERR_NETPOLL_LINKBUFFER_READ_ONLY`, `ERR_NETPOLL_CLOSED`.
   */
  mallocAck(n: number): void {
    if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('n', 'an integer', n);
    this.#checkWritable('mallocAck');
    if (n < 0 || n > this.#mallocSize) {
      throw new OutOfRangeError('n', `an integer from 0 to mallocLen() = ${this.#mallocSize}`, n);
    }
    let node = this.#flush;
    let keep = n;
    for (;;) {
      const reserved = node.mallocEnd - node.committedEnd;
      if (keep <= reserved) break;
      keep -= reserved;
      node = node.next!;
    }
    node.mallocEnd = node.committedEnd + keep;
    this.#write = node;
    for (let rest = node.next; rest !== null; rest = rest.next) rest.mallocEnd = rest.committedEnd;
    this.#mallocSize = n;
  }

  /**
   * Makes every reserved byte readable, idempotently. A tail node of more than 8 KiB capacity
   * takes no further reservations afterwards, so it can be freed once read (netpoll's rule).
   * Throws `ERR_NETPOLL_LINKBUFFER_READ_ONLY`, `ERR_NETPOLL_CLOSED`.
   */
  flush(): void {
    if (this.#closed || this.#readOnly) this.#checkWritable('flush');
    if (this.#mallocSize === 0) return;
    const write = this.#write;
    let node = this.#flush;
    for (;;) {
      node.committedEnd = node.mallocEnd;
      if (node === write) break;
      node = node.next!;
    }
    this.#flush = write;
    this.#length += this.#mallocSize;
    this.#fresh += this.#mallocSize;
    this.#mallocSize = 0;
    if (write.capacityEnd - write.base > kSealCapacity) write.flags &= ~kWritable;
  }

  /**
   * Stores one byte in reserved space (readable after `flush()`). Throws
   * `ERR_NETPOLL_OUT_OF_RANGE` for an integer outside 0–255, `ERR_NETPOLL_INVALID_ARG` for
   * anything else that is not an integer, `ERR_NETPOLL_LINKBUFFER_READ_ONLY`, `ERR_NETPOLL_CLOSED`.
   */
  writeByte(byte: number): void {
    if (typeof byte !== 'number' || byte !== (byte & 0xff)) {
      throw integerError('byte', 'an integer from 0 to 255', byte);
    }
    let node = this.#write;
    if ((node.flags & kWritable) === 0 || node.mallocEnd >= node.capacityEnd) {
      this.#checkWritable('writeByte');
      node = this.#growth(1);
    }
    node.buf[node.mallocEnd++] = byte;
    this.#mallocSize++;
  }

  /**
   * Appends `data` to the reservation and returns `data.length`. Above 4096 bytes the caller's
   * memory is linked into the chain **without copying**: the caller must not modify it until it
   * has been flushed and consumed (sent), and its spare capacity is never written. 4096 bytes or
   * fewer are copied. Throws `ERR_NETPOLL_INVALID_ARG`, `ERR_NETPOLL_LINKBUFFER_READ_ONLY`,
   * `ERR_NETPOLL_CLOSED`.
   */
  writeBinary(data: Uint8Array): number {
    if (!(data instanceof Uint8Array)) {
      throw new InvalidArgumentError('data', 'a Uint8Array or Buffer', data);
    }
    const size = data.length;
    if (size > kBinaryInplaceThreshold) {
      this.#checkWritable('writeBinary');
      this.#linkAfterWrite(this.#userNode(data));
      this.#mallocSize += size;
      return size;
    }
    let node = this.#write;
    if ((node.flags & kWritable) === 0 || node.mallocEnd + size > node.capacityEnd) {
      this.#checkWritable('writeBinary');
      if (size === 0) return 0;
      node = this.#growth(size);
    }
    node.buf.set(data, node.mallocEnd);
    node.mallocEnd += size;
    this.#mallocSize += size;
    return size;
  }

  /**
   * Encodes `text` as UTF-8 straight into reserved node memory (always a copy, no temporary
   * Buffer) and returns the byte count. Throws `ERR_NETPOLL_INVALID_ARG`,
   * `ERR_NETPOLL_LINKBUFFER_READ_ONLY`, `ERR_NETPOLL_CLOSED`.
   */
  writeString(text: string): number {
    if (typeof text !== 'string') throw new InvalidArgumentError('text', 'a string', text);
    let node = this.#write;
    // One UTF-16 unit never needs more than 3 UTF-8 bytes, so with that much room the exact
    // length is not needed up front and the string is scanned once.
    if ((node.flags & kWritable) === 0 || node.mallocEnd + text.length * 3 > node.capacityEnd) {
      this.#checkWritable('writeString');
      const size = Buffer.byteLength(text, 'utf8');
      if (size === 0) return 0;
      node = this.#growth(size);
    }
    const written = node.buf.write(text, node.mallocEnd, 'utf8');
    node.mallocEnd += written;
    this.#mallocSize += written;
    return written;
  }

  /**
   * Consumes the next `n` readable bytes of `source` and appends them to this buffer's
   * reservation (readable after `flush()`) without a view object: `writeBinary(source.next(n))` in
   * one step, for proxies and echoes (like any write, it takes a new node when the tail is full). Above 64 bytes the source nodes are
   * shared without copying, reference-counted as by `slice()`, so the bytes stay valid after
   * `source` is released or closed (and its memory stays in use until this buffer releases them);
   * 64 bytes or fewer are copied. Earlier views from `source` stay valid until its next
   * `release()`. Returns `n`. An extension beyond netpoll, whose users write
   * `Append(reader.Slice(n))`. Throws `ERR_NETPOLL_INVALID_ARG` (a non-LinkBuffer, this
   * buffer itself, a non-integer `n`), `ERR_NETPOLL_OUT_OF_RANGE` (a negative `n`),
   * `ERR_NETPOLL_LINKBUFFER_NOT_ENOUGH` (nothing consumed or written),
   * `ERR_NETPOLL_LINKBUFFER_READ_ONLY`, `ERR_NETPOLL_CLOSED` (either buffer).
   */
  writeFrom(source: LinkBuffer, n: number): number {
    if (!(source instanceof LinkBuffer) || source === this) {
      throw new InvalidArgumentError('source', 'a LinkBuffer other than the destination', source);
    }
    this.#checkWritable('writeFrom');
    if (source.#checkRead('writeFrom', n) === 0) return 0;
    if (n > kWriteFromCopyMax) {
      const write = this.#write;
      const spare = write.next;
      const last = source.#referAfter(write, n, false);
      last.next = spare;
      this.#write = last;
    } else {
      let node = this.#write;
      if ((node.flags & kWritable) === 0 || node.mallocEnd + n > node.capacityEnd) {
        node = this.#growth(n);
      }
      source.#consume(n, node.buf, node.mallocEnd);
      node.mallocEnd += n;
    }
    this.#mallocSize += n;
    return n;
  }

  /**
   * Inserts `data` without copying into the region already reserved by `malloc()`, so that
   * `remainCap` reserved bytes follow it (`malloc(32)` then `writeDirect(x, 30)` puts `x` after
   * the first 2 reserved bytes). The node holding the insertion point is split. An empty `data`
   * is a no-op. The caller must not modify `data` until it is sent. Throws
   * `ERR_NETPOLL_OUT_OF_RANGE` when `remainCap` is negative (netpoll ignores the call) or above
   * `mallocLen()`, `ERR_NETPOLL_INVALID_ARG`, `ERR_NETPOLL_LINKBUFFER_READ_ONLY`,
   * `ERR_NETPOLL_CLOSED`.
   */
  writeDirect(data: Uint8Array, remainCap: number): void {
    if (!(data instanceof Uint8Array)) {
      throw new InvalidArgumentError('data', 'a Uint8Array or Buffer', data);
    }
    if (!Number.isSafeInteger(remainCap) || remainCap < 0) {
      throw integerError('remainCap', 'a non-negative integer', remainCap);
    }
    this.#checkWritable('writeDirect');
    if (data.length === 0) return;
    if (remainCap > this.#mallocSize) {
      throw new OutOfRangeError(
        'remainCap',
        `at most mallocLen() = ${this.#mallocSize}`,
        remainCap,
      );
    }
    let node = this.#flush;
    let before = this.#mallocSize - remainCap;
    for (;;) {
      const reserved = node.mallocEnd - node.committedEnd;
      if (before <= reserved) break;
      before -= reserved;
      node = node.next!;
    }
    const split = node.committedEnd + before;
    const inserted = this.#userNode(data);
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
      if (this.#write === node) this.#write = rest;
    } else {
      inserted.next = after;
      if (this.#write === node) this.#write = inserted;
    }
    this.#mallocSize += data.length;
  }

  /**
   * Splices all of `writer`'s nodes onto this buffer's tail without copying. When this buffer has
   * no unflushed reservation, `writer`'s readable bytes count in `len()` at once and its reserved
   * bytes in `mallocLen()`; otherwise all of them join the reservation and become readable at the
   * next `flush()` (so byte order is kept). `writer` is closed afterwards (`ERR_NETPOLL_CLOSED` on
   * use). `null`/`undefined` is a no-op. Throws `ERR_NETPOLL_INVALID_ARG` for a non-LinkBuffer or
   * for this buffer itself, `ERR_NETPOLL_LINKBUFFER_READ_ONLY`, `ERR_NETPOLL_CLOSED`.
   */
  append(writer: LinkBuffer | null | undefined): void {
    this.#checkWritable('append');
    if (writer === null || writer === undefined) return;
    if (!(writer instanceof LinkBuffer)) {
      throw new InvalidArgumentError('writer', 'a LinkBuffer', writer);
    }
    if (writer === this) {
      throw new InvalidArgumentError('writer', 'a LinkBuffer other than the destination', writer);
    }
    if (writer.#closed) throw new ClosedError('append');
    const first = writer.#read;
    const last = writer.#write;
    const readable = writer.#length;
    const reserved = writer.#mallocSize;
    const flush = writer.#flush;
    // Detach the writer's chain: its consumed nodes and the spare nodes after its tail are freed.
    writer.#releaseRange(writer.#head, first);
    writer.#releaseRange(last.next, null);
    last.next = null;
    writer.#dropScratch();
    writer.#markClosed();

    this.#releaseRange(this.#write.next, null);
    this.#write.next = first;
    this.#write = last;
    if (this.#mallocSize === 0) {
      this.#flush = flush;
      this.#length += readable;
      this.#fresh += readable;
      this.#mallocSize = reserved;
      return;
    }
    for (let node: LinkNode | null = first; node !== null; node = node.next) {
      node.committedEnd = node.readOffset;
    }
    this.#mallocSize += readable + reserved;
  }

  /**
   * Appends a **borrowed, read-only** node over `buffer[start, end)` without copying and without
   * creating a view. The bytes are readable at once (like a write + flush) when nothing is
   * reserved; otherwise they join the reservation and become readable at the next `flush()`.
   * `owner.releaseRegion(token)` is called exactly once, when this node and every slice of it are
   * released (or at once for an empty region). The owner must keep the bytes unchanged until then.
   * `token` is any number; the buffer only hands it back. Throws `ERR_NETPOLL_INVALID_ARG`,
   * `ERR_NETPOLL_OUT_OF_RANGE`, `ERR_NETPOLL_LINKBUFFER_READ_ONLY`, `ERR_NETPOLL_CLOSED` (the
   * region is then not taken and the owner is not called).
   */
  appendRegion(
    buffer: Buffer,
    start: number,
    end: number,
    owner: RegionOwner,
    token: number,
  ): void {
    if (this.#closed || this.#readOnly) this.#checkWritable('appendRegion');
    if (!Buffer.isBuffer(buffer)) throw new InvalidArgumentError('buffer', 'a Buffer', buffer);
    if (
      typeof start !== 'number' ||
      typeof end !== 'number' ||
      start !== start >>> 0 ||
      end !== end >>> 0 ||
      start > end ||
      end > buffer.length
    ) {
      throwRegionBoundsError(buffer, start, end);
    }
    if (typeof owner?.releaseRegion !== 'function') {
      throw new InvalidArgumentError(
        'owner',
        'an object with a releaseRegion(token) method',
        owner,
      );
    }
    if (typeof token !== 'number') throw new InvalidArgumentError('token', 'a number', token);
    if (start === end) {
      owner.releaseRegion(token);
      return;
    }
    if (buffer !== this.#regionBuffer) {
      this.#regionBuffer = buffer;
      this.#regionMemory = buffer.buffer;
      this.#regionOffset = buffer.byteOffset;
    }
    const node = acquireNodeIn(
      buffer,
      this.#regionMemory,
      this.#regionOffset,
      start,
      end,
      kBorrowed,
    );
    node.owner = owner;
    node.token = token;
    node.mallocEnd = end;
    this.#linkAfterWrite(node);
    if (this.#mallocSize === 0) {
      node.committedEnd = end;
      this.#flush = node;
      this.#length += end - start;
      this.#fresh += end - start;
    } else {
      this.#mallocSize += end - start;
    }
  }

  /**
   * Copies the readable bytes that sit in borrowed regions (`appendRegion`) into memory from this
   * buffer's allocator and gives those regions back to their owners — for an owner that needs its
   * memory (core evacuates connection readers when every inbound slab is in use at the memory
   * cap). The buffer's content, length and cursors do not change. Regions a view was handed out
   * from since the last `release()` (`next`, `peek`, …, `forEachChunk`) stay where they are, so
   * those views remain valid; so do regions with bytes reserved but not yet flushed. Returns the
   * bytes copied. An extension beyond netpoll. Throws `ERR_NETPOLL_CLOSED`.
   */
  evacuate(): number {
    this.#checkReadable('evacuate');
    if (this.#length === 0) return 0;
    let moved = 0;
    let previous: LinkNode | null = null;
    let node = this.#head;
    for (;;) {
      const last = node === this.#flush;
      const next = node.next;
      const size = node.committedEnd - node.readOffset;
      if (
        size > 0 &&
        ((node.origin ?? node).flags & kBorrowed) !== 0 &&
        (node.flags & kExposed) === 0 &&
        node.committedEnd === node.mallocEnd &&
        node !== this.#cursor
      ) {
        const memory = this.#allocate(size);
        node.buf.copy(memory, 0, node.readOffset, node.committedEnd);
        const copy = acquireNode(memory, 0, memory.length, kAllocated);
        copy.allocator = this.#allocator;
        copy.committedEnd = size;
        copy.mallocEnd = size;
        copy.next = next;
        if (previous === null) this.#head = copy;
        else previous.next = copy;
        if (this.#read === node) this.#read = copy;
        if (this.#flush === node) this.#flush = copy;
        if (this.#write === node) this.#write = copy;
        releaseNode(node, this.#poison);
        node = copy;
        moved += size;
      }
      if (last || next === null) break;
      previous = node;
      node = next;
    }
    return moved;
  }

  /**
   * Releases everything: every node (memory goes back unless a slice still refers to it), recorded
   * copies and the peek cache. Afterwards `len()` is 0, `release()`/`close()` are no-ops and every
   * other method throws `ERR_NETPOLL_CLOSED`. Idempotent; never throws (unless a region owner
   * does). A buffer dropped without `close()` is reclaimed by the garbage collector, but its
   * memory never returns to the allocator's pool and its borrowed regions are never handed back.
   */
  close(): void {
    if (this.#closed) return;
    this.#releaseRange(this.#head, null);
    this.#dropScratch();
    this.#regionBuffer = kEmptyBuffer;
    this.#regionMemory = kEmptyMemory;
    this.#regionOffset = 0;
    this.#markClosed();
  }

  // ---- big-endian integers (extensions beyond netpoll) ----------------------------------------

  /**
   * Returns the 4 readable bytes at `offset` bytes past the read position (default 0) as an
   * unsigned 32-bit big-endian integer (0 – 4294967295) without consuming anything, across node
   * boundaries. Allocates nothing: no view, and the peek cache is neither used nor reset. An
   * extension beyond netpoll (whose users decode `Peek(4)`): the length-header check of a framing
   * loop; with `offset`, a handler can walk several buffered frames before consuming them at once.
   * Throws `ERR_NETPOLL_LINKBUFFER_NOT_ENOUGH` when fewer than `offset + 4` bytes are readable,
   * `ERR_NETPOLL_OUT_OF_RANGE` when `offset` is an integer outside 0 – 4294967295,
   * `ERR_NETPOLL_INVALID_ARG` when it is not an integer, `ERR_NETPOLL_CLOSED`.
   */
  peekUint32BE(offset = 0): number {
    if (typeof offset === 'number' && offset >>> 0 === offset) {
      const node = this.#read;
      const start = node.readOffset + offset;
      if (start + 4 <= node.committedEnd) return uint32At(node.buf, start);
    }
    return uint32At(this.#gather('peekUint32BE', offset, 4), 0);
  }

  /** As {@link LinkBuffer.peekUint32BE} for the 2 bytes at `offset`: 0 – 65535. */
  peekUint16BE(offset = 0): number {
    if (typeof offset === 'number' && offset >>> 0 === offset) {
      const node = this.#read;
      const start = node.readOffset + offset;
      if (start + 2 <= node.committedEnd) return uint16At(node.buf, start);
    }
    return uint16At(this.#gather('peekUint16BE', offset, 2), 0);
  }

  /**
   * As {@link LinkBuffer.peekUint32BE} for the 8 bytes at `offset`, as a BigInt from 0n to
   * 2^64 - 1 (no Buffer or view is allocated; the BigInt itself is).
   */
  peekBigUint64BE(offset = 0): bigint {
    if (typeof offset === 'number' && offset >>> 0 === offset) {
      const node = this.#read;
      const start = node.readOffset + offset;
      if (start + 8 <= node.committedEnd) return bigUint64At(node.buf, start);
    }
    return bigUint64At(this.#gather('peekBigUint64BE', offset, 8), 0);
  }

  /**
   * Consumes the next 4 readable bytes and returns them as an unsigned 32-bit big-endian integer
   * (0 – 4294967295), across node boundaries, allocating nothing: `peekUint32BE()` + `skip(4)`.
   * An extension beyond netpoll. Throws `ERR_NETPOLL_LINKBUFFER_NOT_ENOUGH` (nothing consumed)
   * when fewer than 4 bytes are readable, `ERR_NETPOLL_CLOSED`.
   */
  readUint32BE(): number {
    const node = this.#read;
    const start = node.readOffset;
    if (start + 4 <= node.committedEnd) {
      node.readOffset = start + 4;
      this.#length -= 4;
      this.#peekLength = 0;
      return uint32At(node.buf, start);
    }
    return uint32At(this.#take('readUint32BE', 4), 0);
  }

  /** As {@link LinkBuffer.readUint32BE} for the next 2 bytes: 0 – 65535. */
  readUint16BE(): number {
    const node = this.#read;
    const start = node.readOffset;
    if (start + 2 <= node.committedEnd) {
      node.readOffset = start + 2;
      this.#length -= 2;
      this.#peekLength = 0;
      return uint16At(node.buf, start);
    }
    return uint16At(this.#take('readUint16BE', 2), 0);
  }

  /** As {@link LinkBuffer.readUint32BE} for the next 8 bytes, as a BigInt from 0n to 2^64 - 1. */
  readBigUint64BE(): bigint {
    const node = this.#read;
    const start = node.readOffset;
    if (start + 8 <= node.committedEnd) {
      node.readOffset = start + 8;
      this.#length -= 8;
      this.#peekLength = 0;
      return bigUint64At(node.buf, start);
    }
    return bigUint64At(this.#take('readBigUint64BE', 8), 0);
  }

  /**
   * Stores `value` as 4 big-endian bytes in reserved space (readable after `flush()`), like
   * `malloc(4)` plus the bytes: the 4 bytes are contiguous, in a new node when the tail has less
   * room. Allocates nothing but that node. Throws `ERR_NETPOLL_INVALID_ARG` when `value` is not
   * an integer, `ERR_NETPOLL_OUT_OF_RANGE` when it is outside 0 – 4294967295,
   * `ERR_NETPOLL_LINKBUFFER_READ_ONLY`, `ERR_NETPOLL_CLOSED`.
   */
  writeUint32BE(value: number): void {
    checkUint32(value);
    const node = this.#claim('writeUint32BE', 4);
    putUint32(node.buf, node.mallocEnd - 4, value);
  }

  /** As {@link LinkBuffer.writeUint32BE} for 2 bytes: `value` from 0 to 65535. */
  writeUint16BE(value: number): void {
    checkUint16(value);
    const node = this.#claim('writeUint16BE', 2);
    putUint16(node.buf, node.mallocEnd - 2, value);
  }

  /**
   * As {@link LinkBuffer.writeUint32BE} for 8 bytes: `value` a BigInt from 0n to 2^64 - 1
   * (`ERR_NETPOLL_INVALID_ARG` for a number or any other type).
   */
  writeBigUint64BE(value: bigint): void {
    checkBigUint64(value);
    const node = this.#claim('writeBigUint64BE', 8);
    putBigUint64(node.buf, node.mallocEnd - 8, value);
  }

  /**
   * The `size` readable bytes at `offset` past the read position, gathered into the integer
   * scratch array when they are not inside the read node. Does not consume. Throws the coded
   * errors of the `peek*` integer methods.
   */
  #gather(method: string, offset: number, size: number): Uint8Array {
    if (typeof offset !== 'number' || offset >>> 0 !== offset) {
      throw integerError('offset', 'an integer from 0 to 4294967295', offset);
    }
    if (this.#length < offset + size) {
      this.#checkReadable(method);
      throw new NotEnoughDataError(`${method}()`, offset + size, this.#length);
    }
    // Usually the read node is merely used up (after release()) and the bytes sit in the next.
    this.#advanceRead();
    this.#copyOut(offset, kIntegerScratch, 0, size);
    return kIntegerScratch;
  }

  /** Consumes the next `size` readable bytes into the integer scratch array (`read*` methods). */
  #take(method: string, size: number): Uint8Array {
    if (this.#length < size) {
      this.#checkReadable(method);
      throw new NotEnoughDataError(`${method}()`, size, this.#length);
    }
    this.#consume(size, kIntegerScratch, 0);
    return kIntegerScratch;
  }

  /** Reserves `size` contiguous bytes at the tail and returns their node (they end at `mallocEnd`). */
  #claim(method: string, size: number): LinkNode {
    let node = this.#write;
    if ((node.flags & kWritable) === 0 || node.mallocEnd + size > node.capacityEnd) {
      this.#checkWritable(method);
      node = this.#growth(size);
    }
    node.mallocEnd += size;
    this.#mallocSize += size;
    return node;
  }

  // ---- internals ------------------------------------------------------------------------------

  /** Moves `read` past fully consumed nodes, never past `flush`, and returns it. */
  #advanceRead(): LinkNode {
    let node = this.#read;
    const flush = this.#flush;
    while (node !== flush && node.readOffset === node.committedEnd) node = node.next!;
    this.#read = node;
    return node;
  }

  /** Validates a read size; returns 0 for "nothing to do" or `n`. Throws the coded errors. */
  #checkRead(method: string, n: number): number {
    if (!Number.isSafeInteger(n) || n < 0) throw integerError('n', 'a non-negative integer', n);
    this.#checkReadable(method);
    if (n === 0) return 0;
    if (n > this.#length) throw new NotEnoughDataError(`${method}(${n})`, n, this.#length);
    return n;
  }

  #checkReadable(method: string): void {
    if (this.#closed) throw new ClosedError(method);
  }

  #checkWritable(method: string): void {
    if (this.#closed) throw new ClosedError(method);
    if (this.#readOnly) throw new ReadOnlyError(method);
  }

  /** `indexByte` without argument checks (callers validated `byte` and `skip`). */
  #indexOf(byte: number, skip: number): number {
    let node = this.#read;
    let passed = 0;
    let remaining = this.#length;
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

  #nextSlow(n: number): Buffer {
    if (this.#checkRead('next', n) === 0) return kEmptyBuffer;
    const node = this.#advanceRead();
    const start = node.readOffset;
    if (node.committedEnd - start >= n) {
      node.readOffset = start + n;
      node.flags |= kExposed;
      this.#length -= n;
      this.#peekLength = 0;
      return viewIn(node.memory, node.memoryOffset + start, n);
    }
    const span = this.#spanView(node, n);
    if (span !== null) {
      this.#consume(n, null, 0);
      return span;
    }
    let out: Buffer;
    if (n > kPooledCopyMin && n <= kMaxPooledSize) {
      const memory = this.#allocate(n);
      if (this.#copies === null) this.#copies = [memory];
      else this.#copies.push(memory);
      out = memory.length === n ? memory : viewOf(memory, 0, n);
    } else {
      out = Buffer.allocUnsafe(n);
    }
    this.#consume(n, out, 0);
    return out;
  }

  /**
   * A view of the `n` readable bytes from `node` (the read node, which holds fewer than `n`) when
   * they lie back to back in one memory across the nodes that hold them, as consecutive reads
   * into one slab do (netpoll gets the same effect by reading into one large node); the nodes
   * are marked exposed. Else `null`, and nothing is marked. Does not consume.
   */
  #spanView(node: LinkNode, n: number): Buffer | null {
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

  #peekSlow(n: number): Buffer {
    if (this.#checkRead('peek', n) === 0) return kEmptyBuffer;
    const node = this.#advanceRead();
    const start = node.readOffset;
    if (node.committedEnd - start >= n) {
      node.flags |= kExposed;
      return viewIn(node.memory, node.memoryOffset + start, n);
    }
    const filled = this.#peekLength;
    if (n > filled) {
      if (this.#peekCache.length < n) this.#growPeekCache(n);
      this.#copyOut(filled, this.#peekCache, filled, n - filled);
      this.#peekLength = n;
    }
    return viewOf(this.#peekCache, 0, n);
  }

  /** Swaps the peek cache for one of at least `n` bytes, keeping its valid prefix. */
  #growPeekCache(n: number): void {
    const old = this.#peekCache;
    const pooled = n <= kMaxPooledSize;
    const size = Math.max(n, kMinPeekCache);
    const cache = pooled ? this.#allocate(size) : Buffer.allocUnsafeSlow(size);
    if (this.#peekLength > 0) old.copy(cache, 0, 0, this.#peekLength);
    this.#freePeekCache();
    this.#peekCache = cache;
    this.#peekPooled = pooled;
  }

  #freePeekCache(): void {
    const cache = this.#peekCache;
    if (cache === kEmptyBuffer) return;
    if (this.#peekPooled) this.#freeScratch(cache);
    this.#peekCache = kEmptyBuffer;
    this.#peekPooled = false;
  }

  /** Frees recorded copies and the peek cache (netpoll frees both at every Release). */
  #dropScratch(): void {
    const copies = this.#copies;
    // pop() rather than `length = 0`, which V8 runs as a runtime call (it shows in profiles).
    if (copies !== null) while (copies.length > 0) this.#freeScratch(copies.pop()!);
    this.#freePeekCache();
    this.#peekLength = 0;
  }

  #freeScratch(memory: Buffer): void {
    if (this.#poison >= 0) memory.fill(this.#poison);
    this.#allocator.free(memory);
  }

  /** Asks the allocator for `size` bytes and checks its contract. */
  #allocate(size: number): Buffer {
    const memory = this.#allocator.allocate(size);
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

  /**
   * Consumes `n` readable bytes (the caller checked `n <= #length`), copying them to
   * `target[offset…]` when a target is given. Leaves `read` on the node holding the last byte.
   */
  #consume(n: number, target: Uint8Array | null, offset: number): void {
    let node = this.#read;
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
    this.#read = node;
    this.#length -= n;
    this.#peekLength = 0;
  }

  /**
   * Consumes `n` readable bytes (the caller checked `n <= #length`) by linking zero-copy
   * references to them after `tail` (each referenced root's count goes up by one), readable or
   * reserved; returns the last reference. The referenced nodes count as exposed.
   */
  #referAfter(tail: LinkNode, n: number, readable: boolean): LinkNode {
    let node = this.#read;
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
    this.#read = node;
    this.#length -= n;
    this.#peekLength = 0;
    return last;
  }

  /** Copies `n` readable bytes starting `skip` bytes past the read position, without consuming. */
  #copyOut(skip: number, target: Uint8Array, offset: number, n: number): void {
    let node = this.#read;
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

  /**
   * Returns a node at or after `write` with `n` bytes of spare writable room, appending a new
   * node of `max(n, nodeSize)` when none has it, and makes it the new `write`.
   */
  #growth(n: number): LinkNode {
    let node = this.#write;
    for (;;) {
      if ((node.flags & kWritable) !== 0 && node.capacityEnd - node.mallocEnd >= n) break;
      const next = node.next;
      if (next === null) {
        const memory = this.#allocate(Math.max(n, this.#nodeSize));
        const fresh = acquireNode(memory, 0, memory.length, kWritable | kAllocated);
        fresh.allocator = this.#allocator;
        node.next = fresh;
        node = fresh;
        break;
      }
      node = next;
    }
    this.#write = node;
    return node;
  }

  /** A root node over the caller's memory, reserved in full (zero-copy writes). */
  #userNode(data: Uint8Array): LinkNode {
    const buffer = Buffer.isBuffer(data)
      ? data
      : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const node = acquireNode(buffer, 0, buffer.length, 0);
    node.mallocEnd = buffer.length;
    return node;
  }

  /** Links `node` right after `write` (before any spare nodes) and makes it the new `write`. */
  #linkAfterWrite(node: LinkNode): void {
    const write = this.#write;
    node.next = write.next;
    write.next = node;
    this.#write = node;
  }

  /** Releases the nodes from `from` up to, not including, `to` (`null`: to the end). */
  #releaseRange(from: LinkNode | null, to: LinkNode | null): void {
    let node = from;
    while (node !== null && node !== to) {
      const next = node.next;
      releaseNode(node, this.#poison);
      node = next;
    }
  }

  #markClosed(): void {
    this.#closed = true;
    this.#head = kClosedNode;
    this.#read = kClosedNode;
    this.#flush = kClosedNode;
    this.#write = kClosedNode;
    this.#length = 0;
    this.#mallocSize = 0;
    this.#fresh = 0;
    this.#cursor = kClosedNode;
  }

  #snapshot(): LinkBufferSnapshot {
    const rootRefs: number[] = [];
    for (let node: LinkNode | null = this.#head; node !== null; node = node.next) {
      if (node === kClosedNode) break;
      rootRefs.push((node.origin ?? node).refs);
    }
    return {
      nodes: rootRefs.length,
      headIsRead: this.#head === this.#read,
      recordedCopies: this.#copies?.length ?? 0,
      peekCacheSize: this.#peekCache.length,
      peekLength: this.#peekLength,
      rootRefs,
      closed: this.#closed,
      readOnly: this.#readOnly,
    };
  }
}

/**
 * Internal state of `buffer` (node count, cursors, caches, root reference counts). For tests and
 * debugging only; not part of the package's public entry point.
 */
export function inspectLinkBuffer(buffer: LinkBuffer): LinkBufferSnapshot {
  return snapshotOf(buffer);
}
