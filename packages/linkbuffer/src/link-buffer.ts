/**
 * LinkBuffer: a zero-copy chain of memory nodes with a two-phase writer and a view-returning reader.
 *
 * Design after cloudwego/netpoll `nocopy_linkbuffer.go` and `nocopy.go` (Apache-2.0): the four
 * cursors, refcounted `slice()`, `malloc()`→`flush()`, cross-node copies recorded until `release()`,
 * the single reusable peek cache, and zero-copy `writeBinary()` above 4 KiB. Re-designed for
 * Node.js (nodes hold one Buffer plus absolute offsets, borrowed regions, a pluggable allocator,
 * coded errors instead of panics); no code was copied.
 *
 * Where the code is: this class holds the writer half (with the big-endian integer writers) and
 * the methods that take or make whole buffers (`slice`, `writeFrom`, `append`, `appendRegion`,
 * `evacuate`, `close`); it extends `LinkBufferReader` (link-buffer-reader.ts), the reader half.
 * Both keep the fast paths of their hot methods inline and work on one `NodeChain`
 * (node-chain.ts, which draws the chain and states its invariants); the slow paths and the rarely
 * used methods' bodies are functions in the `chain-*.ts` modules.
 */
import { Buffer } from 'node:buffer';
import {
  checkBigUint64,
  checkUint16,
  checkUint32,
  putBigUint64,
  putUint16,
  putUint32,
} from './big-endian';
import { consume } from './chain-reads';
import { closeChain, evacuateRegions, releaseConsumed } from './chain-release';
import { referAfter, spliceChain } from './chain-splice';
import {
  claim,
  growth,
  insertDirect,
  keepReserved,
  linkAfterWrite,
  userNode,
} from './chain-writes';
import { ClosedError, InvalidArgumentError, integerError } from './errors';
import {
  acquireNodeIn,
  kBorrowed,
  kEmptyBuffer,
  kEmptyMemory,
  kWritable,
} from './link-buffer-node';
import { chainOf, LinkBufferReader } from './link-buffer-reader';
import { type LinkBufferSnapshot, snapshotChain } from './link-buffer-snapshot';
import { checkRead, checkReadable, checkWritable, type NodeChain } from './node-chain';
import {
  type kPoisonByte,
  type LinkBufferOptions,
  type ResolvedLinkBufferOptions,
  resolveLinkBufferOptions,
} from './options';
import { throwRegionBoundsError } from './region-bounds';
import type { RegionOwner } from './region-owner';
import { viewIn } from './view';

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

/**
 * A chain of memory nodes with netpoll's Reader and Writer semantics. Single-threaded by nature:
 * one producer (`malloc`/`write*`/`flush`/`appendRegion`) and one consumer (`next`/`peek`/…/
 * `release`) may interleave freely, as netpoll allows one reader and one writer goroutine.
 *
 * Lifetime rule for every Buffer a read method returns unless it says "copy": it may alias pooled
 * node memory and is valid until the next `release()` (or `slice()`, which releases) of this
 * buffer; afterwards it may show another user's bytes, or {@link kPoisonByte} in debug mode.
 */
export class LinkBuffer extends LinkBufferReader {
  /** The resolved options; pass them to another `new LinkBuffer()` to skip validation. */
  readonly options: ResolvedLinkBufferOptions;

  readonly #chain: NodeChain = chainOf(this); // LinkBufferReader's (see there why so)
  // The Buffer of the last appendRegion and its getters, read once: a reader is fed regions of
  // the same few slabs, and the getters are calls into the runtime.
  #regionBuffer: Buffer = kEmptyBuffer;
  #regionMemory: ArrayBufferLike = kEmptyMemory;
  #regionOffset = 0;

  /**
   * Creates an empty buffer. Options are validated here, once (`ERR_NETPOLL_INVALID_ARG`,
   * `ERR_NETPOLL_OUT_OF_RANGE`); see {@link LinkBufferOptions}.
   */
  constructor(options?: LinkBufferOptions) {
    const resolved = resolveLinkBufferOptions(options);
    super(resolved);
    this.options = resolved;
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
   * `malloc(n)` without the view: reserves `n` contiguous bytes the same way and returns where
   * they start in {@link LinkBuffer.reserved}, the tail node's memory. For encoders that fill a
   * few small messages per tick, where making a view per message costs more than filling it.
   * Write only those `n` bytes (the rest of that Buffer belongs to other reservations and
   * readers); the offset is valid as malloc's view is. `n = 0` reserves nothing (and adds no
   * node). Throws as `malloc`.
   */
  reserve(n: number): number {
    if (!Number.isSafeInteger(n) || n < 0) throw integerError('n', 'a non-negative integer', n);
    const chain = this.#chain;
    if (n === 0) {
      checkWritable(chain, 'reserve');
      return chain.write.mallocEnd;
    }
    return claim(chain, 'reserve', n).mallocEnd - n;
  }

  /**
   * The tail node's Buffer, which the offset `reserve()` returned points into: read it after
   * `reserve()` and before any other write (a later write may move the tail to another node).
   */
  get reserved(): Buffer {
    return this.#chain.write.buf;
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

  // ---- big-endian integers (extensions beyond netpoll; the readers are in LinkBufferReader) ---

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
