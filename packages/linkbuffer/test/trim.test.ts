/**
 * `trim()`: `release()` plus the last node once nothing is readable or reserved, so an idle buffer
 * holds no memory (an extension beyond netpoll; core's idle connections rely on it).
 */
import { inspectLinkBuffer, LinkBuffer } from '../src/link-buffer';
import { CountingAllocator, RecordingOwner } from './helpers/counting-allocator';
import { text } from './helpers/fill';

describe('LinkBuffer.trim', () => {
  it('hands back the last lent region once it was read, and the buffer keeps working', () => {
    const slab = Buffer.from('hello world', 'latin1');
    const owner = new RecordingOwner();
    const buffer = new LinkBuffer();
    buffer.appendRegion(slab, 0, 5, owner, 1);
    expect(text(buffer.next(5))).toBe('hello');
    buffer.release();
    expect(owner.released).toEqual([]); // release() keeps the last node
    buffer.trim();
    expect(owner.released).toEqual([1]);
    expect(inspectLinkBuffer(buffer).nodes).toBe(1);
    buffer.trim(); // nothing left to let go of
    expect(owner.released).toEqual([1]);
    buffer.appendRegion(slab, 6, 11, owner, 2);
    expect(text(buffer.next(5))).toBe('world');
    buffer.trim();
    expect(owner.released).toEqual([1, 2]);
  });

  it('keeps readable bytes and reservations, releasing only what release() would', () => {
    const slab = Buffer.from('abcdef', 'latin1');
    const owner = new RecordingOwner();
    const buffer = new LinkBuffer();
    buffer.appendRegion(slab, 0, 3, owner, 1);
    buffer.appendRegion(slab, 3, 6, owner, 2);
    buffer.skip(4);
    buffer.trim();
    expect(owner.released).toEqual([1]);
    expect(text(buffer.next(2))).toBe('ef');

    const allocator = new CountingAllocator();
    const writer = new LinkBuffer({ allocator });
    writer.malloc(3).write('xyz', 'latin1');
    writer.trim(); // reserved, not flushed: kept
    expect(allocator.frees).toBe(0);
    writer.flush();
    expect(text(writer.next(3))).toBe('xyz');
  });

  it('frees allocated nodes including spare capacity, and new writes allocate again', () => {
    const allocator = new CountingAllocator();
    const buffer = new LinkBuffer({ allocator, nodeSize: 1024 });
    buffer.writeString('abc');
    buffer.flush();
    buffer.skip(3);
    buffer.trim();
    expect(allocator.live.size).toBe(0);
    expect(allocator.frees).toBe(allocator.allocations);
    buffer.writeString('def');
    buffer.flush();
    expect(text(buffer.next(3))).toBe('def');
    buffer.close();
    expect(allocator.live.size).toBe(0);
  });

  it('a slice outlives trim(): the region goes back when the slice is released too', () => {
    const slab = Buffer.from('0123456789', 'latin1');
    const owner = new RecordingOwner();
    const buffer = new LinkBuffer();
    buffer.appendRegion(slab, 0, 10, owner, 5);
    const slice = buffer.slice(4);
    buffer.skip(6);
    buffer.trim();
    expect(owner.released).toEqual([]);
    expect(text(slice.next(4))).toBe('0123');
    slice.close();
    expect(owner.released).toEqual([5]);
  });

  it('is a no-op after close()', () => {
    const owner = new RecordingOwner();
    const buffer = new LinkBuffer();
    buffer.appendRegion(Buffer.from('ab'), 0, 2, owner, 3);
    buffer.close();
    expect(owner.released).toEqual([3]);
    buffer.trim();
    expect(owner.released).toEqual([3]);
    expect(buffer.closed).toBe(true);
  });
});
