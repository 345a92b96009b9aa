/**
 * LinkBuffer: a zero-copy chain of memory nodes with a two-phase writer and a view-returning reader.
 *
 * Design after cloudwego/netpoll `nocopy_linkbuffer.go` and `nocopy.go` (Apache-2.0): the four
 * cursors, refcounted `slice()`, `malloc()`→`flush()`, cross-node copies recorded until `release()`,
 * the single reusable peek cache, and zero-copy `writeBinary()` above 4 KiB. Re-designed for
 * Node.js (nodes hold one Buffer plus absolute offsets, borrowed regions, a pluggable allocator,
 * coded errors instead of panics); no code was copied.
 *
 * Where the code is: this class keeps the fast paths of its hot methods inline and works on one
 * `NodeChain` (node-chain.ts, which draws the chain and states its invariants); the slow paths
 * and the rarely used methods' bodies are functions in the `chain-*.ts` modules.
 */
import { Buffer } from 'node:buffer';
import {
  bigUint64At,
  checkBigUint64,
  checkUint16,
  checkUint32,
  gather,
  putBigUint64,
  putUint16,
  putUint32,
  take,
  uint16At,
  uint32At,
} from './big-endian';
import { allBytes, consume, indexOf, nextSlow, peekSlow, walkChunks } from './chain-reads';
import { closeChain, evacuateRegions, releaseConsumed, trimChain } from './chain-release';
import { referAfter, spliceChain } from './chain-splice';
import {
  claim,
  growth,
  insertDirect,
  keepReserved,
  linkAfterWrite,
  userNode,
} from './chain-writes';
import { type ChunkVisitor, checkMaxChunks } from './chunk-visitor';
import {
  ClosedError,
  DelimiterNotFoundError,
  InvalidArgumentError,
  integerError,
  NotEnoughDataError,
} from './errors';
import {
  acquireNodeIn,
  kAllocated,
  kBorrowed,
  kEmptyBuffer,
  kEmptyMemory,
  kExposed,
  kWritable,
  type LinkNode,
  releaseNode,
} from './link-buffer-node';
import { type LinkBufferSnapshot, snapshotChain } from './link-buffer-snapshot';
import {
  advanceRead,
  checkRead,
  checkReadable,
  checkWritable,
  NodeChain,
  useOptions,
} from './node-chain';
import {
  type kPoisonByte,
  type LinkBufferOptions,
  type ResolvedLinkBufferOptions,
  resolveLinkBufferOptions,
} from './options';
import { throwRegionBoundsError } from './region-bounds';
import type { RegionOwner } from './region-owner';
import { viewIn, viewOf } from './view';

export type { ChunkVisitor } from './chunk-visitor';
export type { LinkBufferSnapshot } from './link-buffer-snapshot';

/** `writeBinary()` links the caller's memory instead of copying above this size (bytes). */
export const kBinaryInplaceThreshold = 4096;

/**
 * `writeFrom` copies at most this many bytes (with a plain loop, which allocates nothing); larger
 * moves share the source nodes. Small copies keep tiny pieces from forming chains of tiny nodes.
 */
export const kWriteFromCopyMax = 64;

/** After `flush()`, a tail node with more capacity than this takes no new reservations. */
const kSealCapacity = 8192;

let chainOf: (buffer: LinkBuffer) => NodeChain;

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

  // Made in the initializer so that this field only ever holds the chain: a field that held
  // `undefined` first loses V8's type tracking, and each hot method then pays a check of the
  // chain's map (about 1 ns a call).
  readonly #chain = new NodeChain();
  // The Buffer of the last appendRegion and its getters, read once: a reader is fed regions of
  // the same few slabs, and the getters are calls into the runtime.
  #regionBuffer: Buffer = kEmptyBuffer;
  #regionMemory: ArrayBufferLike = kEmptyMemory;
  #regionOffset = 0;

  static {
    chainOf = (buffer) => buffer.#chain;
  }

  /**
   * Creates an empty buffer. Options are validated here, once (`ERR_NETPOLL_INVALID_ARG`,
   * `ERR_NETPOLL_OUT_OF_RANGE`); see {@link LinkBufferOptions}.
   */
  constructor(options?: LinkBufferOptions) {
    this.options = resolveLinkBufferOptions(options);
    useOptions(this.#chain, this.options);
  }

  // ---- sizes ----------------------------------------------------------------------------------

  /** Readable bytes right now. Never throws; 0 after `close()`. */
  len(): number {
    return this.#chain.length;
  }

  /** True when no byte is readable. Never throws. */
  isEmpty(): boolean {
    return this.#chain.length === 0;
  }

  /** Bytes reserved by the writer and not yet flushed (malloc, write*, writeDirect, append). */
  mallocLen(): number {
    return this.#chain.mallocSize;
  }

  /** True once `close()` ran or the buffer was emptied into another one by `append()`. */
  get closed(): boolean {
    return this.#chain.closed;
  }

  /** True for buffers returned by `slice()`: every writer method throws `ERR_NETPOLL_LINKBUFFER_READ_ONLY`. */
  get readOnly(): boolean {
    return this.#chain.readOnly;
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
    const chain = this.#chain;
    const node = chain.read;
    const start = node.readOffset;
    if (typeof n === 'number' && n === (n | 0) && n > 0 && start + n <= node.committedEnd) {
      node.readOffset = start + n;
      node.flags |= kExposed;
      chain.length -= n;
      chain.peekLength = 0;
      return viewIn(node.memory, node.memoryOffset + start, n);
    }
    return nextSlow(chain, n);
  }

  /**
   * Returns the next `n` bytes without consuming them. Inside one node: a view (valid until
   * `release()`). Across nodes: a view of the buffer's single reusable peek cache, valid until the
   * next consuming read followed by another cross-node `peek()`, which overwrites it, or until
   * `release()`, whichever comes first. Errors as {@link LinkBuffer.next}.
   */
  peek(n: number): Buffer {
    const chain = this.#chain;
    const node = chain.read;
    const start = node.readOffset;
    if (typeof n === 'number' && n === (n | 0) && n > 0 && start + n <= node.committedEnd) {
      node.flags |= kExposed;
      return viewIn(node.memory, node.memoryOffset + start, n);
    }
    return peekSlow(chain, n);
  }

  /** Consumes `n` bytes without copying. `n = 0` is a no-op. Errors as {@link LinkBuffer.next}. */
  skip(n: number): void {
    const chain = this.#chain;
    const node = chain.read;
    if (
      typeof n === 'number' &&
      n === (n | 0) &&
      n > 0 &&
      node.readOffset + n <= node.committedEnd
    ) {
      node.readOffset += n;
      chain.length -= n;
      chain.peekLength = 0;
      return;
    }
    if (checkRead(chain, 'skip', n) > 0) consume(chain, n, null, 0);
  }

  /**
   * Consumes and returns the next `n` bytes as a UTF-8 decoded string (always a copy; safe after
   * `release()`). `n = 0` returns `''`. Errors as {@link LinkBuffer.next}.
   */
  readString(n: number): string {
    const chain = this.#chain;
    const node = chain.read;
    const start = node.readOffset;
    if (typeof n === 'number' && n === (n | 0) && n > 0 && start + n <= node.committedEnd) {
      node.readOffset = start + n;
      chain.length -= n;
      chain.peekLength = 0;
      return node.buf.toString('utf8', start, start + n);
    }
    if (checkRead(chain, 'readString', n) === 0) return '';
    const scratch = Buffer.allocUnsafe(n);
    consume(chain, n, scratch, 0);
    return scratch.toString('utf8');
  }

  /**
   * Consumes the next `n` bytes into a new Buffer the caller owns (always a copy, never pooled;
   * safe after `release()`). `n = 0` returns an empty Buffer. Errors as {@link LinkBuffer.next}.
   */
  readBinary(n: number): Buffer {
    const chain = this.#chain;
    if (checkRead(chain, 'readBinary', n) === 0) return Buffer.alloc(0);
    const out = Buffer.allocUnsafe(n);
    consume(chain, n, out, 0);
    return out;
  }

  /**
   * Consumes and returns one byte (0–255), across node boundaries.
   * Throws `ERR_NETPOLL_LINKBUFFER_NOT_ENOUGH` when empty, `ERR_NETPOLL_CLOSED`.
   */
  readByte(): number {
    const chain = this.#chain;
    let node = chain.read;
    if (node.readOffset >= node.committedEnd) {
      checkReadable(chain, 'readByte');
      if (chain.length === 0) throw new NotEnoughDataError('readByte()', 1, 0);
      node = advanceRead(chain);
    }
    chain.length--;
    chain.peekLength = 0;
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
    const chain = this.#chain;
    checkReadable(chain, 'until');
    const index = indexOf(chain, delimiter, 0);
    if (index < 0) throw new DelimiterNotFoundError(delimiter, chain.length);
    return nextSlow(chain, index + 1);
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
    checkReadable(this.#chain, 'indexByte');
    return indexOf(this.#chain, byte, skip);
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
    const slice = out.#chain;
    slice.readOnly = true;
    if (checkRead(this.#chain, 'slice', n) === 0) return out;
    const tail = referAfter(this.#chain, slice.write, n, true);
    slice.flush = tail;
    slice.write = tail;
    slice.length = n;
    slice.fresh = n;
    releaseConsumed(this.#chain);
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
    const chain = this.#chain;
    checkReadable(chain, 'read');
    const n = Math.min(target.length, chain.length);
    if (n === 0) return 0;
    consume(chain, n, target, 0);
    const read = advanceRead(chain);
    let previous: LinkNode | null = null;
    let node = chain.head;
    while (node !== read) {
      const next = node.next!;
      if ((node.flags & kExposed) !== 0) {
        previous = node;
      } else {
        if (previous === null) chain.head = next;
        else previous.next = next;
        releaseNode(node, chain.poison);
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
    checkReadable(this.#chain, 'bytes');
    if (this.#chain.length === 0) return kEmptyBuffer;
    return allBytes(this.#chain);
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
    checkReadable(this.#chain, 'getBytes');
    const views: Buffer[] = [];
    walkChunks(
      this.#chain,
      (buffer, start, end) => {
        views.push(viewOf(buffer, start, end));
      },
      maxChunks,
    );
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
    checkReadable(this.#chain, 'forEachChunk');
    return walkChunks(this.#chain, visitor, maxChunks);
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
    const chain = this.#chain;
    checkReadable(chain, 'forEachNewChunk');
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
        // The cursor moves past the chunk only once the visitor returned (see above).
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

  /**
   * Frees every fully consumed node before the read node (the read node itself survives, so a
   * view into its unread part keeps working in practice, but the contract still ends every view
   * here), every recorded cross-node `next()` copy, and the peek cache. A node's memory goes back
   * to the allocator (or its region owner) when no slice refers to it. No-op after `close()`.
   */
  release(): void {
    const chain = this.#chain;
    if (!chain.closed) releaseConsumed(chain);
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
    const chain = this.#chain;
    if (!chain.closed) trimChain(chain);
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
    const chain = this.#chain;
    const node = chain.write;
    const start = node.mallocEnd;
    if (
      typeof n === 'number' &&
      n === (n | 0) &&
      n > 0 &&
      (node.flags & kWritable) !== 0 &&
      start + n <= node.capacityEnd
    ) {
      node.mallocEnd = start + n;
      chain.mallocSize += n;
      return viewIn(node.memory, node.memoryOffset + start, n);
    }
    if (!Number.isSafeInteger(n) || n < 0) throw integerError('n', 'a non-negative integer', n);
    checkWritable(chain, 'malloc');
    if (n === 0) return kEmptyBuffer;
    const target = growth(chain, n);
    const from = target.mallocEnd;
    target.mallocEnd = from + n;
    chain.mallocSize += n;
    return viewIn(target.memory, target.memoryOffset + from, n);
  }

  /**
   * Keeps only the first `n` reserved bytes (they may span nodes) and discards the rest;
   * `mallocAck(0)` discards everything. Throws `ERR_NETPOLL_OUT_OF_RANGE` when `n < 0` or
   * `n > mallocLen()`, `ERR_NETPOLL_INVALID_ARG`, `ERR_NETPOLL_LINKBUFFER_READ_ONLY`, `ERR_NETPOLL_CLOSED`.
   */
  mallocAck(n: number): void {
    keepReserved(this.#chain, n);
  }

  /**
   * Makes every reserved byte readable, idempotently. A tail node of more than 8 KiB capacity
   * takes no further reservations afterwards, so it can be freed once read (netpoll's rule).
   * Throws `ERR_NETPOLL_LINKBUFFER_READ_ONLY`, `ERR_NETPOLL_CLOSED`.
   */
  flush(): void {
    const chain = this.#chain;
    if (chain.closed || chain.readOnly) checkWritable(chain, 'flush');
    if (chain.mallocSize === 0) return;
    const write = chain.write;
    let node = chain.flush;
    for (;;) {
      node.committedEnd = node.mallocEnd;
      if (node === write) break;
      node = node.next!;
    }
    chain.flush = write;
    chain.length += chain.mallocSize;
    chain.fresh += chain.mallocSize;
    chain.mallocSize = 0;
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
    const chain = this.#chain;
    let node = chain.write;
    if ((node.flags & kWritable) === 0 || node.mallocEnd >= node.capacityEnd) {
      checkWritable(chain, 'writeByte');
      node = growth(chain, 1);
    }
    node.buf[node.mallocEnd++] = byte;
    chain.mallocSize++;
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
    const chain = this.#chain;
    const size = data.length;
    if (size > kBinaryInplaceThreshold) {
      checkWritable(chain, 'writeBinary');
      linkAfterWrite(chain, userNode(data));
      chain.mallocSize += size;
      return size;
    }
    let node = chain.write;
    if ((node.flags & kWritable) === 0 || node.mallocEnd + size > node.capacityEnd) {
      checkWritable(chain, 'writeBinary');
      if (size === 0) return 0;
      node = growth(chain, size);
    }
    node.buf.set(data, node.mallocEnd);
    node.mallocEnd += size;
    chain.mallocSize += size;
    return size;
  }

  /**
   * Encodes `text` as UTF-8 straight into reserved node memory (always a copy, no temporary
   * Buffer) and returns the byte count. Throws `ERR_NETPOLL_INVALID_ARG`,
   * `ERR_NETPOLL_LINKBUFFER_READ_ONLY`, `ERR_NETPOLL_CLOSED`.
   */
  writeString(text: string): number {
    if (typeof text !== 'string') throw new InvalidArgumentError('text', 'a string', text);
    const chain = this.#chain;
    let node = chain.write;
    // One UTF-16 unit never needs more than 3 UTF-8 bytes, so with that much room the exact
    // length is not needed up front and the string is scanned once.
    if ((node.flags & kWritable) === 0 || node.mallocEnd + text.length * 3 > node.capacityEnd) {
      checkWritable(chain, 'writeString');
      const size = Buffer.byteLength(text, 'utf8');
      if (size === 0) return 0;
      node = growth(chain, size);
    }
    const written = node.buf.write(text, node.mallocEnd, 'utf8');
    node.mallocEnd += written;
    chain.mallocSize += written;
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
    const chain = this.#chain;
    checkWritable(chain, 'writeFrom');
    const from = source.#chain;
    if (checkRead(from, 'writeFrom', n) === 0) return 0;
    if (n > kWriteFromCopyMax) {
      const write = chain.write;
      const spare = write.next;
      const last = referAfter(from, write, n, false);
      last.next = spare;
      chain.write = last;
    } else {
      let node = chain.write;
      if ((node.flags & kWritable) === 0 || node.mallocEnd + n > node.capacityEnd) {
        node = growth(chain, n);
      }
      consume(from, n, node.buf, node.mallocEnd);
      node.mallocEnd += n;
    }
    chain.mallocSize += n;
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
    insertDirect(this.#chain, data, remainCap);
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
    checkWritable(this.#chain, 'append');
    if (writer === null || writer === undefined) return;
    if (!(writer instanceof LinkBuffer)) {
      throw new InvalidArgumentError('writer', 'a LinkBuffer', writer);
    }
    if (writer === this) {
      throw new InvalidArgumentError('writer', 'a LinkBuffer other than the destination', writer);
    }
    if (writer.#chain.closed) throw new ClosedError('append');
    spliceChain(this.#chain, writer.#chain);
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
    const chain = this.#chain;
    if (chain.closed || chain.readOnly) checkWritable(chain, 'appendRegion');
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
    linkAfterWrite(chain, node);
    if (chain.mallocSize === 0) {
      node.committedEnd = end;
      chain.flush = node;
      chain.length += end - start;
      chain.fresh += end - start;
    } else {
      chain.mallocSize += end - start;
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
    const chain = this.#chain;
    checkReadable(chain, 'evacuate');
    if (chain.length === 0) return 0;
    return evacuateRegions(chain);
  }

  /**
   * Releases everything: every node (memory goes back unless a slice still refers to it), recorded
   * copies and the peek cache. Afterwards `len()` is 0, `release()`/`close()` are no-ops and every
   * other method throws `ERR_NETPOLL_CLOSED`. Idempotent; never throws (unless a region owner
   * does). A buffer dropped without `close()` is reclaimed by the garbage collector, but its
   * memory never returns to the allocator's pool and its borrowed regions are never handed back.
   */
  close(): void {
    const chain = this.#chain;
    if (chain.closed) return;
    closeChain(chain);
    this.#regionBuffer = kEmptyBuffer;
    this.#regionMemory = kEmptyMemory;
    this.#regionOffset = 0;
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
      const node = this.#chain.read;
      const start = node.readOffset + offset;
      if (start + 4 <= node.committedEnd) return uint32At(node.buf, start);
    }
    return uint32At(gather(this.#chain, 'peekUint32BE', offset, 4), 0);
  }

  /** As {@link LinkBuffer.peekUint32BE} for the 2 bytes at `offset`: 0 – 65535. */
  peekUint16BE(offset = 0): number {
    if (typeof offset === 'number' && offset >>> 0 === offset) {
      const node = this.#chain.read;
      const start = node.readOffset + offset;
      if (start + 2 <= node.committedEnd) return uint16At(node.buf, start);
    }
    return uint16At(gather(this.#chain, 'peekUint16BE', offset, 2), 0);
  }

  /**
   * As {@link LinkBuffer.peekUint32BE} for the 8 bytes at `offset`, as a BigInt from 0n to
   * 2^64 - 1 (no Buffer or view is allocated; the BigInt itself is).
   */
  peekBigUint64BE(offset = 0): bigint {
    if (typeof offset === 'number' && offset >>> 0 === offset) {
      const node = this.#chain.read;
      const start = node.readOffset + offset;
      if (start + 8 <= node.committedEnd) return bigUint64At(node.buf, start);
    }
    return bigUint64At(gather(this.#chain, 'peekBigUint64BE', offset, 8), 0);
  }

  /**
   * Consumes the next 4 readable bytes and returns them as an unsigned 32-bit big-endian integer
   * (0 – 4294967295), across node boundaries, allocating nothing: `peekUint32BE()` + `skip(4)`.
   * An extension beyond netpoll. Throws `ERR_NETPOLL_LINKBUFFER_NOT_ENOUGH` (nothing consumed)
   * when fewer than 4 bytes are readable, `ERR_NETPOLL_CLOSED`.
   */
  readUint32BE(): number {
    const chain = this.#chain;
    const node = chain.read;
    const start = node.readOffset;
    if (start + 4 <= node.committedEnd) {
      node.readOffset = start + 4;
      chain.length -= 4;
      chain.peekLength = 0;
      return uint32At(node.buf, start);
    }
    return uint32At(take(chain, 'readUint32BE', 4), 0);
  }

  /** As {@link LinkBuffer.readUint32BE} for the next 2 bytes: 0 – 65535. */
  readUint16BE(): number {
    const chain = this.#chain;
    const node = chain.read;
    const start = node.readOffset;
    if (start + 2 <= node.committedEnd) {
      node.readOffset = start + 2;
      chain.length -= 2;
      chain.peekLength = 0;
      return uint16At(node.buf, start);
    }
    return uint16At(take(chain, 'readUint16BE', 2), 0);
  }

  /** As {@link LinkBuffer.readUint32BE} for the next 8 bytes, as a BigInt from 0n to 2^64 - 1. */
  readBigUint64BE(): bigint {
    const chain = this.#chain;
    const node = chain.read;
    const start = node.readOffset;
    if (start + 8 <= node.committedEnd) {
      node.readOffset = start + 8;
      chain.length -= 8;
      chain.peekLength = 0;
      return bigUint64At(node.buf, start);
    }
    return bigUint64At(take(chain, 'readBigUint64BE', 8), 0);
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
    const node = claim(this.#chain, 'writeUint32BE', 4);
    putUint32(node.buf, node.mallocEnd - 4, value);
  }

  /** As {@link LinkBuffer.writeUint32BE} for 2 bytes: `value` from 0 to 65535. */
  writeUint16BE(value: number): void {
    checkUint16(value);
    const node = claim(this.#chain, 'writeUint16BE', 2);
    putUint16(node.buf, node.mallocEnd - 2, value);
  }

  /**
   * As {@link LinkBuffer.writeUint32BE} for 8 bytes: `value` a BigInt from 0n to 2^64 - 1
   * (`ERR_NETPOLL_INVALID_ARG` for a number or any other type).
   */
  writeBigUint64BE(value: bigint): void {
    checkBigUint64(value);
    const node = claim(this.#chain, 'writeBigUint64BE', 8);
    putBigUint64(node.buf, node.mallocEnd - 8, value);
  }
}

/**
 * Internal state of `buffer` (node count, cursors, caches, root reference counts). For tests and
 * debugging only; not part of the package's public entry point.
 */
export function inspectLinkBuffer(buffer: LinkBuffer): LinkBufferSnapshot {
  return snapshotChain(chainOf(buffer));
}
