/**
 * Conformance items 21–35 (netpoll's LinkBuffer writing behaviours). Test names cite
 * the item number; adaptations from netpoll are listed in the README.
 */
import { defaultCache } from '@netpoll/mcache';
import { InvalidArgumentError, OutOfRangeError } from '../src/errors';
import { inspectLinkBuffer, kBinaryInplaceThreshold, LinkBuffer } from '../src/link-buffer';
import { kMcacheNodeAllocator } from '../src/node-allocator';
import { kPoisonByte } from '../src/options';
import { CountingAllocator } from './helpers/counting-allocator';
import { chained, put, text } from './helpers/fill';

const kAlphabet = 'abcdefghijklmnopqrstuvwxyz';

/** A deterministic byte for stream position `index`, so order errors are visible. */
function patternByte(index: number): number {
  return (index * 31 + (index >>> 8)) & 0xff;
}

describe('LinkBuffer writer (conformance 21–35)', () => {
  it('21 (adapted): malloc(n) returns exactly n contiguous bytes, even above the node size; n = 0 is a no-op, negative n throws OUT_OF_RANGE', () => {
    const buffer = new LinkBuffer({ nodeSize: 4096 });
    const big = buffer.malloc(10_000);
    expect(big.length).toBe(10_000);
    big.fill(7);
    expect(buffer.malloc(0).length).toBe(0);
    expect(() => buffer.malloc(-1)).toThrow(OutOfRangeError);
    expect(() => buffer.malloc(-1)).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_OUT_OF_RANGE' }),
    );
    expect(buffer.mallocLen()).toBe(10_000);
    buffer.flush();
    const all = buffer.bytes();
    expect(all.buffer).toBe(big.buffer);
    expect(all.byteOffset).toBe(big.byteOffset);
    expect(all.every((byte) => byte === 7)).toBe(true);
  });

  it('reserve(n) reserves as malloc(n) does and returns the offset in reserved: contiguous, a new node when the tail lacks room, readable after flush', () => {
    const allocator = new CountingAllocator();
    const buffer = new LinkBuffer({ allocator, nodeSize: 64 });
    const first = buffer.reserve(40);
    const firstNode = buffer.reserved;
    firstNode.fill(1, first, first + 40);
    const second = buffer.reserve(20); // fits the 64-byte node after the first 40
    expect(buffer.reserved).toBe(firstNode);
    expect(second).toBe(first + 40);
    buffer.reserved.fill(2, second, second + 20);
    const third = buffer.reserve(10); // 4 bytes left: a new node
    expect(buffer.reserved).not.toBe(firstNode);
    expect(allocator.allocations).toBe(2);
    buffer.reserved.fill(3, third, third + 10);
    expect(buffer.reserve(0)).toBe(third + 10);
    expect(buffer.mallocLen()).toBe(70);
    expect(buffer.len()).toBe(0);
    buffer.flush();
    expect([...buffer.readBinary(70)]).toEqual([
      ...Array(40).fill(1),
      ...Array(20).fill(2),
      ...Array(10).fill(3),
    ]);
    const big = buffer.reserve(1000); // above the node size: one node of exactly that
    expect(buffer.reserved.length - big).toBeGreaterThanOrEqual(1000);
    buffer.reserved.fill(4, big, big + 1000);
    buffer.mallocAck(600);
    buffer.flush();
    expect(buffer.readBinary(600).every((byte) => byte === 4)).toBe(true);
    expect(buffer.len()).toBe(0);
  });

  it('reserve(0) reserves nothing and adds no node, as malloc(0), even on a sealed tail', () => {
    const allocator = new CountingAllocator();
    const fresh = new LinkBuffer({ allocator });
    expect(fresh.reserve(0)).toBe(0);
    expect(allocator.allocations).toBe(0);
    const sealed = new LinkBuffer({ allocator });
    sealed.malloc(10_000);
    sealed.flush(); // a tail above 8 KiB takes no reservation after a flush
    expect(allocator.allocations).toBe(1);
    sealed.reserve(0);
    expect(allocator.allocations).toBe(1);
    expect(sealed.mallocLen()).toBe(0);
    sealed.reserve(1);
    expect(allocator.allocations).toBe(2);
  });

  it("takes an allocator's word for where its Buffers live (lastMemory, lastByteOffset), and gives the offset back to free", () => {
    const slab = new ArrayBuffer(1 << 16);
    let next = 64;
    const freed: Array<[number, number | undefined]> = [];
    // Reads of the Buffers' own `buffer`/`byteOffset` getters: none while the hint is there.
    let getterReads = 0;
    const allocator = {
      lastMemory: undefined as ArrayBuffer | undefined,
      lastByteOffset: 0,
      allocate(size: number): Buffer {
        const buffer = Buffer.from(slab, next, size);
        const byteOffset = next;
        Object.defineProperty(buffer, 'buffer', {
          get: () => {
            getterReads++;
            return slab;
          },
        });
        Object.defineProperty(buffer, 'byteOffset', {
          get: () => {
            getterReads++;
            return byteOffset;
          },
        });
        this.lastMemory = slab;
        this.lastByteOffset = next;
        next += size;
        return buffer;
      },
      free(buffer: Buffer, _memory?: ArrayBufferLike, byteOffset?: number): void {
        freed.push([buffer.byteOffset, byteOffset]);
      },
    };
    const buffer = new LinkBuffer({ allocator, nodeSize: 100 });
    for (let i = 0; i < 5; i++) buffer.writeBinary(Buffer.alloc(60, i));
    buffer.flush();
    expect(getterReads).toBe(0);
    const chunks: Array<[ArrayBufferLike, number, number]> = [];
    buffer.forEachChunk((chunk, start, end, _retained, memory, memoryOffset) => {
      expect(memoryOffset).toBe(chunk.byteOffset + start);
      chunks.push([memory, memoryOffset, end - start]);
    });
    expect(chunks).toEqual([
      [slab, 64, 60],
      [slab, 164, 60],
      [slab, 264, 60],
      [slab, 364, 60],
      [slab, 464, 60],
    ]);
    expect(buffer.readBinary(300).every((byte, index) => byte === Math.floor(index / 60))).toBe(
      true,
    );
    buffer.close();
    expect(freed).toEqual([
      [64, 64],
      [164, 164],
      [264, 264],
      [364, 364],
      [464, 464],
    ]);
  });

  it('22: mallocLen adds up malloc, writeBinary, writeString, writeDirect and unflushed append; 0 after flush', () => {
    const buffer = new LinkBuffer();
    buffer.malloc(3).write('abc', 'latin1');
    expect(buffer.mallocLen()).toBe(3);
    expect(buffer.writeBinary(Buffer.from('defgh'))).toBe(5);
    expect(buffer.mallocLen()).toBe(8);
    expect(buffer.writeBinary(Buffer.alloc(5000, 'i'))).toBe(5000);
    expect(buffer.mallocLen()).toBe(5008);
    expect(buffer.writeString('héllo')).toBe(6);
    expect(buffer.mallocLen()).toBe(5014);
    buffer.writeDirect(Buffer.from('xy'), 0);
    expect(buffer.mallocLen()).toBe(5016);
    const other = new LinkBuffer();
    other.malloc(2).write('zz', 'latin1');
    buffer.append(other);
    expect(buffer.mallocLen()).toBe(5018);
    expect(buffer.len()).toBe(0);
    buffer.flush();
    expect(buffer.mallocLen()).toBe(0);
    expect(buffer.len()).toBe(5018);
    const all = buffer.readBinary(5018);
    expect(all.subarray(0, 8).toString('latin1')).toBe('abcdefgh');
    expect(all.subarray(5008).toString('utf8')).toBe('hélloxyzz');
  });

  it('23: mallocAck(n) keeps the first n bytes across nodes; 0 discards all; -1 and > mallocLen throw', () => {
    const buffer = new LinkBuffer({ nodeSize: 1, allocator: new CountingAllocator() });
    buffer.malloc(4).write('abcd', 'latin1');
    buffer.malloc(4).write('efgh', 'latin1');
    buffer.mallocAck(6);
    expect(buffer.mallocLen()).toBe(6);
    buffer.flush();
    expect(buffer.readString(6)).toBe('abcdef');

    buffer.malloc(3);
    buffer.mallocAck(0);
    buffer.flush();
    expect(buffer.len()).toBe(0);

    buffer.malloc(2);
    expect(() => buffer.mallocAck(-1)).toThrow(OutOfRangeError);
    expect(() => buffer.mallocAck(-1)).toThrow(RangeError);
    expect(() => buffer.mallocAck(-1)).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_OUT_OF_RANGE' }),
    );
    expect(() => buffer.mallocAck(3)).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_OUT_OF_RANGE' }),
    );
    expect(() => buffer.mallocAck(0.5)).toThrow(InvalidArgumentError);
    expect(buffer.mallocLen()).toBe(2);
  });

  it('24: mallocAck after writeDirect keeps the right bytes (4 + 7 KiB + 4)', () => {
    const buffer = new LinkBuffer();
    buffer.malloc(4).write('head', 'latin1');
    const middle = Buffer.alloc(7 * 1024, 'm');
    buffer.writeDirect(middle, 0);
    buffer.malloc(4).write('tail', 'latin1');
    buffer.malloc(100).fill('!');
    buffer.mallocAck(4 + 7 * 1024 + 4);
    buffer.flush();
    expect(buffer.len()).toBe(4 + 7 * 1024 + 4);
    const all = buffer.readBinary(buffer.len()).toString('latin1');
    expect(all).toBe(`head${'m'.repeat(7 * 1024)}tail`);
  });

  it('25: flush twice adds nothing; skip, flush, then reserve keeps byte order', () => {
    const buffer = new LinkBuffer();
    put(buffer, 'abc');
    buffer.flush();
    expect(buffer.len()).toBe(3);
    buffer.skip(1);
    buffer.flush();
    buffer.malloc(2).write('de', 'latin1');
    buffer.flush();
    expect(buffer.readString(4)).toBe('bcde');
  });

  it('26: writeBinary above 4096 bytes references the caller memory; 4096 or fewer are copied', () => {
    const buffer = new LinkBuffer();
    const large = Buffer.alloc(4097, 'a');
    buffer.writeBinary(large);
    large[0] = 'z'.charCodeAt(0);
    const small = Buffer.alloc(4096, 'b');
    buffer.writeBinary(small);
    small[0] = 'z'.charCodeAt(0);
    buffer.flush();
    const first = buffer.next(4097);
    expect(first.buffer).toBe(large.buffer);
    expect(first[0]).toBe('z'.charCodeAt(0));
    expect(text(buffer.next(1))).toBe('b');
  });

  it("27: writes after a zero-copy write never touch the caller's spare capacity", () => {
    const arena = Buffer.alloc(6000, 0x11);
    const buffer = new LinkBuffer();
    buffer.writeBinary(arena.subarray(0, 5000));
    buffer.writeBinary(new Uint8Array(4500).fill(0x44));
    buffer.writeBinary(Buffer.alloc(100, 0x22));
    buffer.writeString('x');
    buffer.writeByte(0x55);
    buffer.malloc(50).fill(0x33);
    buffer.flush();
    expect(arena.subarray(5000).every((byte) => byte === 0x11)).toBe(true);
    expect(buffer.len()).toBe(5000 + 4500 + 100 + 1 + 1 + 50);
    buffer.skip(5000);
    expect(buffer.next(4500).every((byte) => byte === 0x44)).toBe(true);
  });

  it('28: writeDirect splices into the reservation (malloc 32; remainCap 30, 29, 28, 27, then 0)', () => {
    const buffer = new LinkBuffer();
    const reserved = buffer.malloc(32);
    reserved.write('ab', 0, 'latin1');
    buffer.writeDirect(Buffer.from('cdef'), 30);
    reserved.write('g', 2, 'latin1');
    buffer.writeDirect(Buffer.from('hijkl'), 29);
    reserved.write('m', 3, 'latin1');
    buffer.writeDirect(Buffer.from('nopqrst'), 28);
    reserved.write('u', 4, 'latin1');
    buffer.writeDirect(Buffer.from('vwxyz'), 27);
    reserved.write(kAlphabet, 5, 'latin1');
    reserved.write('.', 31, 'latin1');
    buffer.writeDirect(Buffer.from('END'), 0);
    expect(buffer.mallocLen()).toBe(32 + 4 + 5 + 7 + 5 + 3);
    buffer.flush();
    expect(text(buffer.bytes())).toBe(`${kAlphabet}${kAlphabet}.END`);
  });

  it('29 (adapted): writeDirect with an empty slice is a no-op; a negative remainCap or one above mallocLen() throws OUT_OF_RANGE', () => {
    const buffer = new LinkBuffer();
    buffer.malloc(4).write('abcd', 'latin1');
    buffer.writeDirect(Buffer.alloc(0), 2);
    expect(buffer.mallocLen()).toBe(4);
    for (const remainCap of [-1, 5]) {
      expect(() => buffer.writeDirect(Buffer.from('zz'), remainCap)).toThrow(
        expect.objectContaining({ code: 'ERR_NETPOLL_OUT_OF_RANGE' }),
      );
    }
    expect(buffer.mallocLen()).toBe(4);
    buffer.flush();
    expect(text(buffer.bytes())).toBe('abcd');
  });

  it('30: append counts flushed bytes in len at once and unflushed in mallocLen; the argument is closed', () => {
    const other = new LinkBuffer();
    put(other, 'abc');
    other.malloc(2).write('de', 'latin1');
    const buffer = new LinkBuffer();
    buffer.append(other);
    expect(buffer.len()).toBe(3);
    expect(buffer.mallocLen()).toBe(2);
    expect(other.closed).toBe(true);
    expect(other.len()).toBe(0);
    expect(() => other.next(1)).toThrow(expect.objectContaining({ code: 'ERR_NETPOLL_CLOSED' }));
    expect(() => other.writeByte(1)).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_CLOSED' }),
    );
    buffer.flush();
    expect(buffer.readString(5)).toBe('abcde');
    buffer.append(null);
    buffer.append(undefined);
    expect(() => buffer.append({} as LinkBuffer)).toThrow(InvalidArgumentError);
    expect(() => buffer.append(buffer)).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_INVALID_ARG' }),
    );
    expect(() => buffer.append(other)).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_CLOSED' }),
    );
  });

  it('30 (adaptation): append while the destination has a reservation keeps order until flush', () => {
    const other = new LinkBuffer();
    put(other, 'cd');
    const buffer = new LinkBuffer();
    put(buffer, 'a');
    buffer.malloc(1).write('b', 'latin1');
    buffer.append(other);
    expect(buffer.len()).toBe(1);
    expect(buffer.mallocLen()).toBe(3);
    buffer.flush();
    expect(buffer.readString(4)).toBe('abcd');
  });

  it('31: two appends keep their order', () => {
    const two = new LinkBuffer();
    two.writeByte(2);
    two.flush();
    const three = new LinkBuffer();
    three.writeByte(3);
    three.flush();
    const buffer = new LinkBuffer();
    buffer.append(two);
    buffer.append(three);
    buffer.flush();
    expect([...buffer.readBinary(2)]).toEqual([2, 3]);
  });

  it('32: a tail node larger than 8 KiB takes no new reservations after flush', () => {
    const allocator = new CountingAllocator();
    const buffer = new LinkBuffer({ allocator });
    const large = buffer.malloc(10_000);
    buffer.flush();
    const next = buffer.malloc(10);
    expect(allocator.allocations).toBe(2);
    expect(next.buffer).not.toBe(large.buffer);

    const small = new LinkBuffer({ allocator });
    const first = small.malloc(10);
    small.flush();
    const second = small.malloc(10);
    expect(allocator.allocations).toBe(3);
    expect(second.buffer).toBe(first.buffer);
  });

  it('33: getBytes returns views covering exactly the readable bytes; bytes() is a view or a copy', () => {
    const { buffer } = chained(['ab', 'cde']);
    buffer.skip(1);
    const views = buffer.getBytes();
    expect(views.map(text)).toEqual(['b', 'cde']);
    expect(views.reduce((sum, view) => sum + view.length, 0)).toBe(buffer.len());
    views[1]![0] = 'C'.charCodeAt(0);
    expect(buffer.getBytes(1).map(text)).toEqual(['b']);
    const copy = buffer.bytes();
    expect(text(copy)).toBe('bCde');
    copy[0] = 'X'.charCodeAt(0);
    expect(text(buffer.peek(1))).toBe('b');
    buffer.skip(1);
    const single = buffer.bytes();
    single[0] = 'Y'.charCodeAt(0);
    expect(text(buffer.next(3))).toBe('Yde');
    const chunks: string[] = [];
    const { buffer: walked } = chained(['12', '34', '56']);
    expect(
      walked.forEachChunk((memory, start, end) => chunks.push(text(memory.subarray(start, end)))),
    ).toBe(3);
    expect(chunks).toEqual(['12', '34', '56']);
    expect(walked.forEachChunk(() => false)).toBe(1);
    expect(walked.forEachChunk(() => true, 2)).toBe(2);
  });

  it('34: one producer (malloc 80, mallocAck 70, flush) interleaved with one consumer (next 7, release) keeps order over 100k rounds', () => {
    const buffer = new LinkBuffer();
    let written = 0;
    let read = 0;
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    let mismatches = 0;
    for (let round = 0; round < 100_000; round++) {
      if (random() % 2 === 0) {
        const space = buffer.malloc(80);
        for (let i = 0; i < 70; i++) space[i] = patternByte(written + i);
        buffer.mallocAck(70);
        buffer.flush();
        written += 70;
      }
      const steps = random() % 12;
      for (let step = 0; step < steps && buffer.len() >= 7; step++) {
        const chunk = buffer.next(7);
        for (let i = 0; i < 7; i++) if (chunk[i] !== patternByte(read + i)) mismatches++;
        read += 7;
        buffer.release();
      }
    }
    expect(mismatches).toBe(0);
    expect(read).toBeGreaterThan(100_000);
    expect(buffer.len()).toBe(written - read);
  });

  it('35: freed node memory comes back, with stale contents, from the next allocation of its class', () => {
    // Under NETPOLL_DEBUG=1 the shared mcache poisons freed memory, so "stale" means poison there.
    const stale = defaultCache.options.debug ? kPoisonByte : 0x5a;
    const first = new LinkBuffer({ debug: false });
    const before = first.malloc(100);
    before.fill(0x5a);
    first.flush();
    first.close();
    const second = new LinkBuffer({ debug: false });
    const after = second.malloc(100);
    expect(after.buffer).toBe(before.buffer);
    expect(after.byteOffset).toBe(before.byteOffset);
    expect(after.every((byte) => byte === stale)).toBe(true);
  });

  it('35: nothing above 8 MiB is pooled by the default allocator', () => {
    const size = 9 * 1024 * 1024;
    const a = kMcacheNodeAllocator.allocate(size);
    kMcacheNodeAllocator.free(a);
    const b = kMcacheNodeAllocator.allocate(size);
    expect(b.buffer).not.toBe(a.buffer);
    const buffer = new LinkBuffer();
    buffer.malloc(size).fill(1);
    buffer.flush();
    expect(buffer.next(size).length).toBe(size);
    buffer.close();
  });

  it('writer methods reject bad arguments with INVALID_ARG', () => {
    const buffer = new LinkBuffer();
    for (const attempt of [
      () => buffer.malloc(1.5),
      () => buffer.writeBinary('abc' as unknown as Uint8Array),
      () => buffer.writeString(5 as unknown as string),
      () => buffer.writeDirect(null as unknown as Uint8Array, 0),
      () => buffer.writeDirect(Buffer.from('a'), 0.5),
    ]) {
      expect(attempt).toThrow(InvalidArgumentError);
      expect(attempt).toThrow(expect.objectContaining({ code: 'ERR_NETPOLL_INVALID_ARG' }));
    }
    expect(buffer.mallocLen()).toBe(0);
  });

  it('close() frees every node buffer exactly once, including spare nodes after mallocAck', () => {
    const allocator = new CountingAllocator();
    const buffer = new LinkBuffer({ allocator, nodeSize: 16 });
    put(buffer, 'a'.repeat(20));
    buffer.malloc(16);
    buffer.malloc(16);
    buffer.mallocAck(0);
    buffer.peek(1);
    buffer.close();
    expect(allocator.live.size).toBe(0);
    expect(allocator.frees).toBe(allocator.allocations);
    expect(inspectLinkBuffer(buffer).nodes).toBe(0);
  });

  it('forEachChunk tells retained memory (allocated, lent, shared) from caller memory inserted zero-copy', () => {
    const lent = Buffer.alloc(100, 0x61);
    const source = new LinkBuffer();
    source.appendRegion(lent, 0, 100, { releaseRegion: () => {} }, 0);
    const caller = Buffer.alloc(kBinaryInplaceThreshold + 1, 0x62);
    const buffer = new LinkBuffer();
    buffer.writeString('head'); // allocated node
    buffer.writeFrom(source, 100); // shares the lent region
    buffer.writeBinary(caller); // zero-copy: the caller's memory
    buffer.malloc(4).write('tail', 'latin1');
    buffer.writeDirect(Buffer.from('direct'), 4); // inserted before the 4 reserved bytes
    buffer.flush();
    const seen: Array<[string, boolean]> = [];
    buffer.forEachChunk((memory, start, end, retained) => {
      seen.push([text(memory.subarray(start, Math.min(end, start + 6))), retained]);
    });
    expect(seen).toEqual([
      ['head', true],
      ['aaaaaa', true],
      ['bbbbbb', false],
      ['direct', false],
      ['tail', true],
    ]);
  });
});
