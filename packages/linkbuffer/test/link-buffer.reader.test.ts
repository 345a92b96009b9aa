/**
 * Conformance items 1–20 (netpoll's LinkBuffer reading behaviours). Test names cite the
 * item number; adaptations from netpoll are listed in the README.
 */
import {
  ClosedError,
  DelimiterNotFoundError,
  NotEnoughDataError,
  OutOfRangeError,
  ReadOnlyError,
} from '../src/errors';
import { inspectLinkBuffer, LinkBuffer } from '../src/link-buffer';
import { kPoisonByte } from '../src/options';
import { RecordingOwner } from './helpers/counting-allocator';
import { chained, put, text } from './helpers/fill';

function sharesMemory(a: Uint8Array, b: Uint8Array): boolean {
  return a.buffer === b.buffer && a.byteOffset === b.byteOffset;
}

function isPoisoned(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes.every((byte) => byte === kPoisonByte);
}

describe('LinkBuffer reader (conformance 1–20)', () => {
  it('1: a new buffer is empty and next(1) throws NOT_ENOUGH without consuming', () => {
    const buffer = new LinkBuffer();
    expect(buffer.len()).toBe(0);
    expect(buffer.isEmpty()).toBe(true);
    expect(() => buffer.next(1)).toThrow(NotEnoughDataError);
    expect(() => buffer.next(1)).toThrow(
      expect.objectContaining({
        code: 'ERR_NETPOLL_LINKBUFFER_NOT_ENOUGH',
        requested: 1,
        available: 0,
      }),
    );
    put(buffer, 'abc');
    expect(() => buffer.next(4)).toThrow(expect.objectContaining({ available: 3 }));
    expect(buffer.len()).toBe(3);
    expect(text(buffer.next(3))).toBe('abc');
  });

  it('2: reserved but unflushed bytes are invisible until flush', () => {
    const buffer = new LinkBuffer();
    put(buffer, 'ab');
    buffer.malloc(3).write('cde', 'latin1');
    expect(buffer.len()).toBe(2);
    expect(buffer.mallocLen()).toBe(3);
    expect(() => buffer.peek(3)).toThrow(NotEnoughDataError);
    expect(() => buffer.next(3)).toThrow(NotEnoughDataError);
    buffer.flush();
    expect(buffer.len()).toBe(5);
    expect(text(buffer.next(5))).toBe('abcde');
  });

  it('3 (adapted): n = 0 reads return empty results and consume nothing, negative n throws OUT_OF_RANGE; slice(0) is an empty reader', () => {
    const { buffer } = chained(['a', 'bc'], { debug: true });
    const earlier = buffer.next(1);
    expect(buffer.next(0).length).toBe(0);
    expect(buffer.peek(0).length).toBe(0);
    buffer.skip(0);
    expect(buffer.readString(0)).toBe('');
    expect(buffer.readBinary(0).length).toBe(0);
    for (const read of [
      () => buffer.next(-1),
      () => buffer.peek(-1),
      () => buffer.skip(-5),
      () => buffer.readString(-1),
      () => buffer.readBinary(-2),
      () => buffer.slice(-1),
    ]) {
      expect(read).toThrow(OutOfRangeError);
      expect(read).toThrow(expect.objectContaining({ code: 'ERR_NETPOLL_OUT_OF_RANGE' }));
    }
    expect(() => buffer.next(-1)).toThrow('n must be a non-negative integer (received -1)');
    const empty = buffer.slice(0);
    expect(empty.len()).toBe(0);
    expect(empty.readOnly).toBe(true);
    expect(buffer.len()).toBe(2);
    // slice(0) must not release the source: the earlier view is not poisoned.
    expect(text(earlier)).toBe('a');
  });

  it('4: next(n) inside one node is a view sharing memory with the preceding peek(n)', () => {
    const buffer = new LinkBuffer();
    put(buffer, 'hello world');
    const peeked = buffer.peek(5);
    const taken = buffer.next(5);
    expect(sharesMemory(peeked, taken)).toBe(true);
    peeked[0] = 'J'.charCodeAt(0);
    expect(text(taken)).toBe('Jello');
    expect(buffer.len()).toBe(6);
  });

  it('5: cross-node next is one contiguous copy; pooled and recorded only for 1 KiB < n <= 8 MiB', () => {
    const small = chained(['ab', 'cd']);
    const copy = small.buffer.next(3);
    expect(text(copy)).toBe('abc');
    expect(inspectLinkBuffer(small.buffer).recordedCopies).toBe(0);
    expect(small.allocator.allocations).toBe(2);

    const pooled = chained(['a'.repeat(1000), 'b'.repeat(1000)]);
    const big = pooled.buffer.next(1500);
    expect(text(big)).toBe('a'.repeat(1000) + 'b'.repeat(500));
    expect(inspectLinkBuffer(pooled.buffer).recordedCopies).toBe(1);
    expect(pooled.allocator.requests).toEqual([1000, 1000, 1500]);
    pooled.buffer.release();
    expect(inspectLinkBuffer(pooled.buffer).recordedCopies).toBe(0);
    expect([...pooled.allocator.freed].some((freed) => sharesMemory(freed, big))).toBe(true);

    const boundary = chained(['x'.repeat(600), 'y'.repeat(600)]);
    boundary.buffer.next(1024);
    expect(inspectLinkBuffer(boundary.buffer).recordedCopies).toBe(0);
    expect(boundary.allocator.allocations).toBe(2);
  });

  it('5: cross-node next above 8 MiB is a plain allocation, not recorded', () => {
    const part = 'z'.repeat(5 * 1024 * 1024);
    const { buffer, allocator } = chained([part, part]);
    const huge = buffer.next(9 * 1024 * 1024);
    expect(huge.length).toBe(9 * 1024 * 1024);
    expect(huge[huge.length - 1]).toBe('z'.charCodeAt(0));
    expect(inspectLinkBuffer(buffer).recordedCopies).toBe(0);
    expect(allocator.allocations).toBe(2);
  });

  it('6: peek(n) leaves len unchanged and a following next(n) returns the same bytes', () => {
    const { buffer } = chained(['ab', 'cdef']);
    expect(text(buffer.peek(2))).toBe('ab');
    expect(text(buffer.peek(5))).toBe('abcde');
    expect(buffer.len()).toBe(6);
    expect(text(buffer.next(5))).toBe('abcde');
    expect(buffer.len()).toBe(1);
  });

  it('7: the cross-node peek cache serves a smaller peek as a prefix and extends for a larger one', () => {
    const { buffer, allocator } = chained(['ab', 'cdef', 'gh']);
    const four = buffer.peek(4);
    expect(text(four)).toBe('abcd');
    const before = inspectLinkBuffer(buffer);
    expect(before.peekLength).toBe(4);
    const three = buffer.peek(3);
    expect(text(three)).toBe('abc');
    expect(sharesMemory(three, four)).toBe(true);
    expect(inspectLinkBuffer(buffer).peekCacheSize).toBe(before.peekCacheSize);
    expect(inspectLinkBuffer(buffer).peekLength).toBe(4);
    const allocationsBefore = allocator.allocations;
    expect(text(buffer.peek(6))).toBe('abcdef');
    expect(inspectLinkBuffer(buffer).peekLength).toBe(6);
    expect(allocator.allocations).toBe(allocationsBefore);
    // A peek larger than the cache swaps it for a bigger one and keeps the content right.
    const large = chained(['x'.repeat(50), 'y'.repeat(100)]);
    large.buffer.peek(60);
    const grown = large.buffer.peek(120);
    expect(text(grown)).toBe('x'.repeat(50) + 'y'.repeat(70));
    expect(inspectLinkBuffer(large.buffer).peekCacheSize).toBeGreaterThanOrEqual(120);
  });

  it('8: after a consuming read, a cross-node peek returns fresh data and overwrites the old peek view', () => {
    const { buffer } = chained(['ab', 'cd', 'ef']);
    const first = buffer.peek(3);
    expect(text(first)).toBe('abc');
    buffer.skip(1);
    const second = buffer.peek(3);
    expect(text(second)).toBe('bcd');
    // The invalidation rule: the earlier view aliases the reused cache and now shows new bytes.
    expect(text(first)).toBe('bcd');
  });

  it('9: release drops the peek cache and every recorded cross-node copy (poisoned in debug mode)', () => {
    const { buffer, allocator } = chained(['a'.repeat(700), 'b'.repeat(700), 'c'.repeat(700)], {
      debug: true,
    });
    buffer.peek(800);
    const copy = buffer.next(1400);
    expect(inspectLinkBuffer(buffer).recordedCopies).toBe(1);
    expect(inspectLinkBuffer(buffer).peekCacheSize).toBeGreaterThan(0);
    buffer.release();
    const after = inspectLinkBuffer(buffer);
    expect(after.recordedCopies).toBe(0);
    expect(after.peekCacheSize).toBe(0);
    expect(after.peekLength).toBe(0);
    expect(isPoisoned(copy)).toBe(true);
    expect(allocator.frees).toBe(4); // two consumed nodes, the copy, the peek cache
  });

  it('10: skip advances without copying, and skip beyond len throws and consumes nothing', () => {
    const { buffer, allocator } = chained(['abc', 'def']);
    buffer.skip(4);
    expect(buffer.len()).toBe(2);
    expect(allocator.allocations).toBe(2);
    expect(() => buffer.skip(3)).toThrow(NotEnoughDataError);
    expect(buffer.len()).toBe(2);
    expect(text(buffer.next(2))).toBe('ef');
  });

  it('11: readString and readBinary copies survive release and reuse of the node memory', () => {
    const first = new LinkBuffer({ debug: true });
    put(first, 'hello world');
    const greeting = first.readString(5);
    const rest = first.readBinary(6);
    first.close();
    const second = new LinkBuffer();
    second.malloc(4096).fill('X');
    expect(greeting).toBe('hello');
    expect(text(rest)).toBe(' world');
    // Cross-node strings decode UTF-8 sequences split between nodes.
    const { buffer } = chained(['\xc3', '\xa9t\xc3', '\xa9']);
    expect(buffer.readString(5)).toBe('été');
  });

  it('12: readByte returns bytes in order across nodes and throws when empty', () => {
    const { buffer } = chained(['a', '', 'bc']);
    expect([buffer.readByte(), buffer.readByte(), buffer.readByte()]).toEqual([0x61, 0x62, 0x63]);
    expect(() => buffer.readByte()).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_LINKBUFFER_NOT_ENOUGH', requested: 1 }),
    );
  });

  it('13: until(delim) returns the line including the delimiter across nodes, or throws without consuming', () => {
    const { buffer } = chained(['ab', 'c\nd', 'e']);
    expect(text(buffer.until(10))).toBe('abc\n');
    expect(buffer.len()).toBe(2);
    expect(() => buffer.until(10)).toThrow(DelimiterNotFoundError);
    expect(() => buffer.until(10)).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_LINKBUFFER_DELIMITER_NOT_FOUND' }),
    );
    expect(buffer.len()).toBe(2);
    expect(text(buffer.next(2))).toBe('de');
  });

  it('14: indexByte with a skip offset finds the first delimiter at or after it, across nodes', () => {
    const first = `${'a'.repeat(499)}\n`;
    const second = `${'b'.repeat(500)}\n`;
    const { buffer } = chained([first, second]);
    expect(buffer.len()).toBe(1001);
    expect(buffer.indexByte(10, 0)).toBe(499);
    expect(buffer.indexByte(10, 499)).toBe(499);
    expect(buffer.indexByte(10, 500)).toBe(1000);
    expect(buffer.indexByte(10, 1001)).toBe(-1);
    expect(buffer.indexByte(0x63)).toBe(-1);
    expect(buffer.len()).toBe(1001);
  });

  it('15: slice(n) holds exactly n bytes that survive a source release and new source writes', () => {
    const { buffer } = chained(['abc', 'defg'], { debug: true });
    const slice = buffer.slice(5);
    expect(slice.len()).toBe(5);
    expect(buffer.len()).toBe(2);
    buffer.release();
    buffer.skip(2);
    buffer.release();
    put(buffer, 'XYZXYZ');
    expect(slice.readString(5)).toBe('abcde');
    expect(text(buffer.next(6))).toBe('XYZXYZ');
  });

  it('16: slice releases the source, so in debug mode an earlier next() view is poisoned', () => {
    const { buffer } = chained(['abcd', 'efgh'], { debug: true });
    const view = buffer.next(4);
    expect(text(view)).toBe('abcd');
    const slice = buffer.slice(2);
    expect(isPoisoned(view)).toBe(true);
    expect(slice.readString(2)).toBe('ef');
  });

  it('17: a slice of a slice reads correctly and the root memory returns only after all released', () => {
    const { buffer, allocator } = chained(['abcdef']);
    const outer = buffer.slice(4);
    expect(inspectLinkBuffer(outer).rootRefs).toEqual([1, 2]);
    const inner = outer.slice(2);
    expect(inspectLinkBuffer(inner).rootRefs).toEqual([1, 3]);
    buffer.close();
    expect(inspectLinkBuffer(inner).rootRefs).toEqual([1, 2]);
    expect(allocator.frees).toBe(0);
    expect(inner.readString(2)).toBe('ab');
    inner.close();
    expect(inspectLinkBuffer(outer).rootRefs).toEqual([1]);
    expect(outer.readString(2)).toBe('cd');
    expect(allocator.frees).toBe(0);
    outer.close();
    expect(allocator.frees).toBe(1);
    expect(allocator.live.size).toBe(0);
  });

  it('18: a sliced reader is read-only: every writer method throws READ_ONLY', () => {
    const { buffer } = chained(['abcdef']);
    const slice = buffer.slice(3);
    const other = new LinkBuffer();
    const attempts: Array<() => unknown> = [
      () => slice.malloc(1),
      () => slice.reserve(1),
      () => slice.mallocAck(0),
      () => slice.writeByte(1),
      () => slice.writeBinary(Buffer.from('x')),
      () => slice.writeBinary(Buffer.alloc(5000)),
      () => slice.writeString('x'),
      () => slice.writeDirect(Buffer.from('x'), 0),
      () => slice.append(other),
      () => slice.appendRegion(Buffer.from('x'), 0, 1, new RecordingOwner(), 1),
      () => slice.flush(),
    ];
    for (const attempt of attempts) {
      expect(attempt).toThrow(ReadOnlyError);
      expect(attempt).toThrow(
        expect.objectContaining({ code: 'ERR_NETPOLL_LINKBUFFER_READ_ONLY' }),
      );
    }
    expect(slice.readString(3)).toBe('abc');
  });

  it('19: release keeps the partly read node and frees only fully consumed nodes', () => {
    const { buffer, allocator } = chained(['abc', 'def', 'ghi']);
    buffer.skip(4);
    const view = buffer.peek(1);
    buffer.release();
    const state = inspectLinkBuffer(buffer);
    expect(state.headIsRead).toBe(true);
    expect(state.nodes).toBe(2);
    expect(allocator.frees).toBe(1);
    expect(text(view)).toBe('e');
  });

  it('20: read(p) copies min(len(p), len), keeps earlier views, and frees unexposed nodes at once', () => {
    const { buffer, allocator } = chained(['abc', 'def', 'ghi'], { debug: true });
    const view = buffer.next(2);
    const target = Buffer.alloc(5);
    expect(buffer.read(target)).toBe(5);
    expect(text(target)).toBe('cdefg');
    expect(text(view)).toBe('ab');
    // The middle node was never exposed: freed at once. The exposed first node waits for release.
    expect(allocator.frees).toBe(1);
    expect(inspectLinkBuffer(buffer).nodes).toBe(2);
    expect(buffer.read(new Uint8Array(0))).toBe(0);
    const rest = new Uint8Array(10);
    expect(buffer.read(rest)).toBe(2);
    expect(text(rest.subarray(0, 2))).toBe('hi');
    buffer.release();
    expect(isPoisoned(view)).toBe(true);
    expect(allocator.frees).toBe(2);
  });

  it('every reader method throws CLOSED after close(); len() is 0 and release() is a no-op', () => {
    const buffer = new LinkBuffer();
    put(buffer, 'abc');
    buffer.close();
    buffer.close();
    buffer.release();
    expect(buffer.len()).toBe(0);
    expect(buffer.closed).toBe(true);
    const attempts: Array<() => unknown> = [
      () => buffer.next(1),
      () => buffer.peek(1),
      () => buffer.skip(1),
      () => buffer.readString(1),
      () => buffer.readBinary(1),
      () => buffer.readByte(),
      () => buffer.until(10),
      () => buffer.indexByte(10),
      () => buffer.slice(1),
      () => buffer.read(Buffer.alloc(1)),
      () => buffer.bytes(),
      () => buffer.getBytes(),
      () => buffer.forEachChunk(() => true),
      () => buffer.malloc(1),
      () => buffer.reserve(1),
      () => buffer.flush(),
    ];
    for (const attempt of attempts) {
      expect(attempt).toThrow(ClosedError);
      expect(attempt).toThrow(expect.objectContaining({ code: 'ERR_NETPOLL_CLOSED' }));
    }
  });

  it('reader methods reject non-integer sizes and bad bytes with INVALID_ARG', () => {
    const buffer = new LinkBuffer();
    put(buffer, 'abc');
    for (const attempt of [
      () => buffer.next(1.5),
      () => buffer.peek(Number.NaN),
      () => buffer.skip('1' as unknown as number),
      () => buffer.readBinary(Number.POSITIVE_INFINITY),
      () => buffer.indexByte(2.5),
      () => buffer.indexByte(10, 0.5),
      () => buffer.until('\n' as unknown as number),
      () => buffer.read('abc' as unknown as Uint8Array),
    ]) {
      expect(attempt).toThrow(expect.objectContaining({ code: 'ERR_NETPOLL_INVALID_ARG' }));
      expect(attempt).toThrow(TypeError);
    }
    expect(buffer.len()).toBe(3);
  });

  it('reader methods reject integer bytes outside 0–255 and a negative skip with OUT_OF_RANGE', () => {
    const buffer = new LinkBuffer();
    put(buffer, 'abc');
    for (const attempt of [
      () => buffer.indexByte(256),
      () => buffer.indexByte(10, -1),
      () => buffer.until(-1),
    ]) {
      expect(attempt).toThrow(expect.objectContaining({ code: 'ERR_NETPOLL_OUT_OF_RANGE' }));
      expect(attempt).toThrow(RangeError);
    }
    expect(buffer.len()).toBe(3);
  });
});
