/**
 * `release()` of a drained buffer reuses its last node: when everything written was read and
 * released and nothing else refers to the node's memory, the next write starts at its beginning
 * (request-reply output, one reply per round trip, then takes one node, not one per reply).
 */
import { LinkBuffer } from '../src/link-buffer';
import { kPoisonByte } from '../src/options';
import { CountingAllocator, RecordingOwner } from './helpers/counting-allocator';
import { text } from './helpers/fill';

function reply(round: number): Buffer {
  return Buffer.alloc(1000, 0x41 + (round % 26));
}

describe('LinkBuffer.release reuses a drained last node', () => {
  it('for write, flush, read, release cycles: one allocation, every reply intact', () => {
    const allocator = new CountingAllocator();
    const buffer = new LinkBuffer({ allocator, nodeSize: 1024 });
    for (let round = 0; round < 100; round++) {
      buffer.malloc(1000).set(reply(round));
      buffer.flush();
      expect(buffer.next(1000).equals(reply(round))).toBe(true);
      buffer.release();
    }
    expect(allocator.allocations).toBe(1);
    expect(allocator.frees).toBe(0);
    buffer.close();
    expect(allocator.live.size).toBe(0);
  });

  it('not while a slice refers to the node: the slice keeps its bytes', () => {
    const allocator = new CountingAllocator();
    const buffer = new LinkBuffer({ allocator, nodeSize: 64 });
    buffer.writeString('abc');
    buffer.flush();
    const slice = buffer.slice(3);
    buffer.release();
    buffer.writeString('xyz');
    buffer.flush();
    expect(text(slice.next(3))).toBe('abc');
    expect(text(buffer.next(3))).toBe('xyz');
    slice.close();
    buffer.close();
    expect(allocator.live.size).toBe(0);
  });

  it("not over the writable tail of a writeDirect() split: a slice's bytes there stay", () => {
    const buffer = new LinkBuffer({ allocator: new CountingAllocator(), nodeSize: 64 });
    const reserved = buffer.malloc(6);
    reserved.write('abcdef', 'latin1');
    // 'XY' goes in after 'ab'; 'cdef' and the node's spare room are a tail that refers to the
    // first node's memory.
    buffer.writeDirect(Buffer.from('XY', 'latin1'), 4);
    buffer.flush();
    expect(text(buffer.next(4))).toBe('abXY');
    const slice = buffer.slice(4); // 'cdef', in the tail
    buffer.release();
    buffer.writeString('zzzz');
    buffer.flush();
    expect(text(slice.next(4))).toBe('cdef');
    expect(text(buffer.next(4))).toBe('zzzz');
    slice.close();
  });

  it('not while bytes are readable or reserved: they stay in order', () => {
    const buffer = new LinkBuffer({ allocator: new CountingAllocator(), nodeSize: 64 });
    buffer.writeString('abcdef');
    buffer.flush();
    expect(text(buffer.next(3))).toBe('abc');
    buffer.release();
    buffer.writeString('gh');
    buffer.flush();
    expect(text(buffer.next(5))).toBe('defgh');
    buffer.malloc(2).write('zz', 'latin1');
    buffer.release(); // reserved, not flushed
    buffer.writeString('!');
    buffer.flush();
    expect(text(buffer.next(3))).toBe('zz!');
  });

  it('never over lent memory: a region stays untouched and goes back to its owner', () => {
    const slab = Buffer.from('region', 'latin1');
    const owner = new RecordingOwner();
    const buffer = new LinkBuffer({ allocator: new CountingAllocator(), nodeSize: 64 });
    buffer.appendRegion(slab, 0, 6, owner, 1);
    expect(text(buffer.next(6))).toBe('region');
    buffer.release();
    buffer.writeString('new');
    buffer.flush();
    expect(text(buffer.next(3))).toBe('new');
    buffer.release();
    expect(slab.toString('latin1')).toBe('region');
    expect(owner.released).toEqual([1]);
  });

  it('in debug mode, poisons the bytes read before the node takes new writes', () => {
    const buffer = new LinkBuffer({
      debug: true,
      allocator: new CountingAllocator(),
      nodeSize: 64,
    });
    buffer.writeString('secret');
    buffer.flush();
    const view = buffer.next(6);
    buffer.release();
    // The view outlived its release(): it shows the poison, not the old bytes.
    expect([...view]).toEqual(new Array(6).fill(kPoisonByte));
    buffer.writeString('new');
    buffer.flush();
    expect(text(buffer.next(3))).toBe('new');
  });
});
