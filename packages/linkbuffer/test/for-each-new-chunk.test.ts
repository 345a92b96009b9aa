/**
 * `forEachNewChunk(visitor)`: the chunk cursor a socket writer uses to hand each flushed chunk to
 * the kernel once, without walking the chunks it already handed over (an extension beyond netpoll).
 */
import { ClosedError, InvalidArgumentError } from '../src/errors';
import { kBinaryInplaceThreshold, LinkBuffer } from '../src/link-buffer';
import { CountingAllocator, RecordingOwner } from './helpers/counting-allocator';
import { put, text } from './helpers/fill';

/** The chunks the next `forEachNewChunk` call visits, as latin1 text. */
function newChunks(buffer: LinkBuffer): string[] {
  const seen: string[] = [];
  const count = buffer.forEachNewChunk((memory, start, end) => {
    seen.push(text(memory.subarray(start, end)));
  });
  expect(count).toBe(seen.length);
  return seen;
}

describe('LinkBuffer.forEachNewChunk', () => {
  it('visits each flushed byte once, across flushes into the same node and new nodes', () => {
    const buffer = new LinkBuffer({ nodeSize: 8, allocator: new CountingAllocator() });
    expect(newChunks(buffer)).toEqual([]);
    put(buffer, 'abc');
    expect(newChunks(buffer)).toEqual(['abc']);
    expect(newChunks(buffer)).toEqual([]);
    put(buffer, 'de'); // same node, after the cursor
    put(buffer, 'fghij'); // does not fit: a new node
    expect(newChunks(buffer)).toEqual(['de', 'fghij']);
    buffer.malloc(2).write('kl', 'latin1');
    expect(newChunks(buffer)).toEqual([]); // reserved bytes are not readable yet
    buffer.flush();
    expect(newChunks(buffer)).toEqual(['kl']);
    // Other readers neither use nor move the cursor.
    const all: string[] = [];
    buffer.forEachChunk((memory, start, end) => {
      all.push(text(memory.subarray(start, end)));
    });
    expect(all).toEqual(['abcde', 'fghijkl']);
    expect(text(buffer.peek(4))).toBe('abcd');
    expect(newChunks(buffer)).toEqual([]);
    expect(buffer.len()).toBe(12);
  });

  it('keeps its place while visited bytes are consumed and released, as a socket writer does', () => {
    const allocator = new CountingAllocator();
    const buffer = new LinkBuffer({ nodeSize: 4, allocator });
    put(buffer, 'abcd');
    put(buffer, 'efgh');
    expect(newChunks(buffer)).toEqual(['abcd', 'efgh']);
    put(buffer, 'ij');
    buffer.skip(5); // sent: everything up to the cursor is still ahead of it
    buffer.release();
    expect(allocator.frees).toBe(1);
    expect(newChunks(buffer)).toEqual(['ij']);
    buffer.skip(5);
    buffer.release();
    put(buffer, 'kl');
    expect(newChunks(buffer)).toEqual(['kl']);
    expect(text(buffer.next(2))).toBe('kl');
  });

  it('skips bytes a read consumed past the cursor and starts at the read position', () => {
    const buffer = new LinkBuffer({ nodeSize: 4, allocator: new CountingAllocator() });
    put(buffer, 'abc');
    expect(newChunks(buffer)).toEqual(['abc']);
    put(buffer, 'defg');
    buffer.skip(5); // 'abc' visited, 'de' consumed before anyone visited it
    buffer.release();
    expect(newChunks(buffer)).toEqual(['fg']);
    put(buffer, 'hi');
    buffer.skip(4); // past the cursor again, into bytes flushed later
    put(buffer, 'jk');
    expect(newChunks(buffer)).toEqual(['jk']);
    expect(buffer.readString(2)).toBe('jk');
    // Everything consumed and trimmed away: new bytes start a new chain.
    buffer.trim();
    put(buffer, 'lm');
    expect(newChunks(buffer)).toEqual(['lm']);
  });

  it('follows the bytes through writeDirect splits, mallocAck and nodes larger than nodeSize', () => {
    const buffer = new LinkBuffer({ nodeSize: 16, allocator: new CountingAllocator() });
    put(buffer, 'head');
    expect(newChunks(buffer)).toEqual(['head']);
    buffer.malloc(8).write('01234567', 'latin1');
    buffer.writeDirect(Buffer.from('XY'), 3); // splits the visited node after '01234'
    buffer.flush();
    expect(newChunks(buffer)).toEqual(['01234', 'XY', '567']);
    buffer.malloc(6).write('abcdef', 'latin1');
    buffer.mallocAck(2);
    buffer.flush();
    expect(newChunks(buffer)).toEqual(['ab']);
    const big = buffer.malloc(40); // larger than nodeSize: a node of its own
    big.fill(0x7a);
    buffer.flush();
    expect(newChunks(buffer)).toEqual(['z'.repeat(40)]);
    expect(buffer.readString(buffer.len())).toBe(`head01234XY567ab${'z'.repeat(40)}`);
  });

  it('visits what append() and writeFrom() bring in, and the retained flag of each chunk', () => {
    const buffer = new LinkBuffer({ nodeSize: 8, allocator: new CountingAllocator() });
    put(buffer, 'one');
    expect(newChunks(buffer)).toEqual(['one']);

    const other = new LinkBuffer();
    put(other, 'two');
    other.malloc(5).write('three', 'latin1');
    buffer.append(other); // flushed bytes are readable at once, the reservation joins ours
    expect(newChunks(buffer)).toEqual(['two']);
    buffer.flush();
    expect(newChunks(buffer)).toEqual(['three']);

    buffer.writeString('x'); // a reservation is pending: appended bytes wait for flush()
    const pending = new LinkBuffer();
    put(pending, 'four');
    buffer.append(pending);
    expect(newChunks(buffer)).toEqual([]);
    buffer.flush();
    expect(newChunks(buffer)).toEqual(['x', 'four']);

    const lent = Buffer.alloc(100, 0x61);
    const owner = new RecordingOwner();
    const source = new LinkBuffer();
    source.appendRegion(lent, 0, 50, owner, 1);
    source.appendRegion(lent, 50, 100, owner, 2);
    const caller = Buffer.alloc(kBinaryInplaceThreshold + 1, 0x62);
    buffer.writeFrom(source, 100); // above 64 bytes: shares both regions
    buffer.writeBinary(caller); // zero-copy: the caller's memory
    buffer.flush();
    source.close();
    expect(owner.released).toEqual([]);
    const seen: Array<[number, number, boolean]> = [];
    buffer.forEachNewChunk((memory, start, end, retained) => {
      seen.push([memory[start]!, end - start, retained]);
    });
    expect(seen).toEqual([
      [0x61, 50, true],
      [0x61, 50, true],
      [0x62, kBinaryInplaceThreshold + 1, false],
    ]);
    buffer.close();
    expect(owner.released).toEqual([1, 2]);
  });

  it('visits every byte of a slice and of a buffer fed by appendRegion as new', () => {
    const owner = new RecordingOwner();
    const buffer = new LinkBuffer();
    const slab = Buffer.from('abcdefgh', 'latin1');
    buffer.appendRegion(slab, 0, 3, owner, 1);
    buffer.appendRegion(slab, 3, 8, owner, 2);
    expect(newChunks(buffer)).toEqual(['abc', 'defgh']);
    const slice = buffer.slice(5);
    expect(newChunks(slice)).toEqual(['abc', 'de']);
    expect(newChunks(slice)).toEqual([]);
    slice.close();
    buffer.close();
  });

  it('stops after the chunk on which the visitor returns false, which counts as visited', () => {
    const buffer = new LinkBuffer({ nodeSize: 1, allocator: new CountingAllocator() });
    for (const part of ['a', 'b', 'c', 'd']) put(buffer, part);
    const first: string[] = [];
    expect(
      buffer.forEachNewChunk((memory, start, end) => {
        first.push(text(memory.subarray(start, end)));
        return false;
      }),
    ).toBe(1);
    expect(first).toEqual(['a']);
    expect(newChunks(buffer)).toEqual(['b', 'c', 'd']);
    expect(buffer.len()).toBe(4);
  });

  it('stops before the chunk on which the visitor throws: the next call visits it again', () => {
    // A socket writer whose consumer could not take a chunk (out of memory) must not lose it.
    const buffer = new LinkBuffer({ nodeSize: 1, allocator: new CountingAllocator() });
    for (const part of ['a', 'b', 'c', 'd']) put(buffer, part);
    const taken: string[] = [];
    expect(() =>
      buffer.forEachNewChunk((memory, start, end) => {
        const chunk = text(memory.subarray(start, end));
        if (chunk === 'b') throw new Error('visitor failed');
        taken.push(chunk);
      }),
    ).toThrow('visitor failed');
    expect(taken).toEqual(['a']);
    expect(newChunks(buffer)).toEqual(['b', 'c', 'd']);
    expect(buffer.len()).toBe(4);
  });

  it('rejects a visitor that is not a function and throws CLOSED after close() or append()', () => {
    const buffer = new LinkBuffer();
    put(buffer, 'abc');
    for (const visitor of [undefined, null, 'visit', {}]) {
      expect(() => buffer.forEachNewChunk(visitor as never)).toThrow(InvalidArgumentError);
      expect(() => buffer.forEachNewChunk(visitor as never)).toThrow(
        expect.objectContaining({ code: 'ERR_NETPOLL_INVALID_ARG' }),
      );
    }
    expect(newChunks(buffer)).toEqual(['abc']);
    const sink = new LinkBuffer();
    sink.append(buffer);
    expect(() => newChunks(buffer)).toThrow(ClosedError);
    expect(newChunks(sink)).toEqual(['abc']);
    sink.close();
    expect(() => newChunks(sink)).toThrow(expect.objectContaining({ code: 'ERR_NETPOLL_CLOSED' }));
  });

  it("passes each chunk's memory and memoryOffset: the buffer's ArrayBuffer and byteOffset", () => {
    // Node memory at odd offsets of one ArrayBuffer, so an offset taken from the wrong place shows.
    const shared = new ArrayBuffer(1 << 16);
    let next = 3;
    const frees: Array<[Buffer, ArrayBufferLike | undefined]> = [];
    const allocator = {
      allocate(size: number): Buffer {
        const buffer = Buffer.from(shared, next, size);
        next += size + 5;
        return buffer;
      },
      free(buffer: Buffer, memory?: ArrayBufferLike): void {
        frees.push([buffer, memory]);
      },
    };
    const buffer = new LinkBuffer({ nodeSize: 16, allocator });
    put(buffer, 'allocated'); // allocator memory
    const slab = Buffer.from(new ArrayBuffer(64), 8, 40);
    slab.write('region bytes', 4, 'latin1');
    buffer.appendRegion(slab, 4, 16, new RecordingOwner(), 1); // a lent region
    const user = Buffer.alloc(kBinaryInplaceThreshold + 100, 0x61).subarray(7);
    buffer.writeBinary(user); // a large user view, linked zero-copy
    const source = new LinkBuffer({ nodeSize: 16, allocator });
    put(source, 'shared part');
    source.flush();
    buffer.writeFrom(source, 6); // a reference to another buffer's node
    buffer.flush();
    const seen: Array<[number, number]> = [];
    const check = (
      chunk: Buffer,
      start: number,
      end: number,
      _retained: boolean,
      memory: ArrayBufferLike,
      memoryOffset: number,
    ): void => {
      expect(memory).toBe(chunk.buffer);
      expect(memoryOffset).toBe(chunk.byteOffset);
      seen.push([start, end]);
    };
    expect(buffer.forEachNewChunk(check)).toBe(4);
    expect(seen).toHaveLength(4);
    seen.length = 0;
    expect(buffer.forEachChunk(check)).toBe(4);
    expect(seen).toHaveLength(4);
    // The allocator is told the memory of what it frees.
    buffer.skip(buffer.len());
    buffer.release();
    source.skip(source.len());
    source.release();
    expect(frees.length).toBeGreaterThan(0);
    for (const [freed, memory] of frees) expect(memory).toBe(freed.buffer);
  });
});
