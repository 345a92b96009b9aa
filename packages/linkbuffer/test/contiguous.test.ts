/**
 * Cross-node reads over nodes that lie back to back in one memory (consecutive regions of one
 * slab) return a view instead of a copy; everything else still copies.
 */
import fc from 'fast-check';
import { LinkBuffer } from '../src/link-buffer';
import { kPoisonByte } from '../src/options';
import { CountingAllocator, RecordingOwner } from './helpers/counting-allocator';
import { text } from './helpers/fill';

/** A slab whose byte i is `i & 0xff`, so any range's contents are easy to predict. */
function slab(size: number): Buffer {
  const memory = Buffer.allocUnsafeSlow(size);
  for (let i = 0; i < size; i++) memory[i] = i & 0xff;
  return memory;
}

function bytesOf(memory: Buffer, start: number, end: number): number[] {
  return [...memory.subarray(start, end)];
}

/** True when `view` aliases `memory` starting at `offset` (no copy was made). */
function aliases(view: Uint8Array, memory: Buffer, offset: number): boolean {
  return view.buffer === memory.buffer && view.byteOffset === memory.byteOffset + offset;
}

/** A debug-mode buffer over three back-to-back 100-byte regions (tokens 1–3) of one slab. */
function threeRegions(): { memory: Buffer; owner: RecordingOwner; buffer: LinkBuffer } {
  const memory = slab(300);
  const owner = new RecordingOwner();
  const buffer = new LinkBuffer({ debug: true });
  for (let token = 1; token <= 3; token++) {
    buffer.appendRegion(memory, (token - 1) * 100, token * 100, owner, token);
  }
  return { memory, owner, buffer };
}

describe('views across contiguous nodes', () => {
  it('next() over consecutive regions of one slab is a view, allocates nothing, spans many nodes', () => {
    const memory = slab(4000);
    const allocator = new CountingAllocator();
    const owner = new RecordingOwner();
    const buffer = new LinkBuffer({ allocator });
    buffer.appendRegion(memory, 100, 1100, owner, 1);
    buffer.appendRegion(memory, 1100, 1200, owner, 2);
    buffer.appendRegion(memory, 1200, 3000, owner, 3);
    buffer.skip(50);
    const view = buffer.next(2000); // 950 + 100 + 950 bytes of three regions
    expect(aliases(view, memory, 150)).toBe(true);
    expect(view.length).toBe(2000);
    expect([...view]).toEqual(bytesOf(memory, 150, 2150));
    expect(buffer.len()).toBe(850);
    expect(allocator.allocations).toBe(0);
    expect(text(buffer.next(850))).toBe(memory.subarray(2150, 3000).toString('latin1'));
    buffer.release();
    expect(owner.released).toEqual([1, 2]);
    buffer.close();
    expect(owner.released).toEqual([1, 2, 3]);
  });

  it('a gap, another memory or the reverse order still copies (pooled when over 1 KiB)', () => {
    type Layout = (memory: Buffer, other: Buffer) => Array<[Buffer, number, number]>;
    const layouts: Layout[] = [
      (memory) => [
        [memory, 0, 1000],
        [memory, 1001, 2000], // one byte apart
      ],
      (memory, other) => [
        [memory, 0, 1000],
        [other, 1000, 2000], // same offsets, different memory
      ],
      (memory) => [
        [memory, 1000, 2000],
        [memory, 0, 1000], // adjacent, but in the wrong order
      ],
    ];
    for (const layout of layouts) {
      // Fresh memory per layout: debug mode (NETPOLL_DEBUG=1) poisons regions when they go back.
      const memory = slab(6000);
      const other = slab(6000);
      const allocator = new CountingAllocator();
      const buffer = new LinkBuffer({ allocator });
      const expected: number[] = [];
      layout(memory, other).forEach(([source, start, end], token) => {
        buffer.appendRegion(source, start, end, new RecordingOwner(), token);
        expected.push(...bytesOf(source, start, end));
      });
      const copy = buffer.next(1500);
      expect([...copy]).toEqual(expected.slice(0, 1500));
      expect(copy.buffer === memory.buffer || copy.buffer === other.buffer).toBe(false);
      expect(allocator.allocations).toBe(1);
      buffer.close();
      expect(allocator.frees).toBe(1);
    }
  });

  it('until() and bytes() use the same view; peek() keeps its cache', () => {
    const memory = Buffer.from('hello, netpoll\nand more', 'latin1');
    const buffer = new LinkBuffer({ allocator: new CountingAllocator() });
    buffer.appendRegion(memory, 0, 5, new RecordingOwner(), 1);
    buffer.appendRegion(memory, 5, 23, new RecordingOwner(), 2);
    const all = buffer.bytes();
    expect(aliases(all, memory, 0)).toBe(true);
    expect(text(all)).toBe('hello, netpoll\nand more');
    const peeked = buffer.peek(8); // cross-node peek: a copy in the peek cache, as documented
    expect(text(peeked)).toBe('hello, n');
    expect(peeked.buffer === memory.buffer).toBe(false);
    const line = buffer.until(10);
    expect(aliases(line, memory, 0)).toBe(true);
    expect(text(line)).toBe('hello, netpoll\n');
    expect(buffer.len()).toBe(8);
    buffer.close();
  });

  it('read() keeps every node a spanning view shows until release(); debug mode then poisons them', () => {
    const { memory, owner, buffer } = threeRegions();
    const view = buffer.next(150);
    expect(aliases(view, memory, 0)).toBe(true);
    const target = Buffer.alloc(100);
    expect(buffer.read(target)).toBe(100); // the rest of region 2 and half of region 3
    expect([...target]).toEqual(bytesOf(memory, 150, 250));
    expect([...view]).toEqual(bytesOf(memory, 0, 150)); // still intact: nothing was freed
    expect(owner.released).toEqual([]);
    buffer.release();
    expect(owner.released).toEqual([1, 2]);
    expect(view.subarray(0, 100).every((byte) => byte === kPoisonByte)).toBe(true);
    buffer.close();
    expect(owner.released).toEqual([1, 2, 3]);
  });

  it('a view ending exactly at a node end keeps that node through read() as well', () => {
    const { memory, owner, buffer } = threeRegions();
    const view = buffer.next(200); // regions 1 and 2, to their very end
    expect(aliases(view, memory, 0)).toBe(true);
    expect(buffer.read(Buffer.alloc(50))).toBe(50);
    expect(owner.released).toEqual([]);
    expect([...view]).toEqual(bytesOf(slab(300), 0, 200));
    buffer.close();
  });

  it('zero-copy writeBinary of adjacent parts of one Buffer reads back as one view', () => {
    const memory = slab(20_000);
    const buffer = new LinkBuffer();
    buffer.writeBinary(memory.subarray(0, 5000));
    buffer.writeBinary(memory.subarray(5000, 12_000));
    buffer.flush();
    const view = buffer.next(9000);
    expect(aliases(view, memory, 0)).toBe(true);
    expect([...view]).toEqual(bytesOf(memory, 0, 9000));
    buffer.close();
  });

  it('property: a slab stream read with random next/read/skip/bytes/release matches the bytes, and views survive until release()', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('append' as const), size: fc.integer({ min: 0, max: 40 }) }),
      fc.record({
        kind: fc.constantFrom('next' as const, 'read' as const, 'skip' as const),
        size: fc.integer({ min: 1, max: 60 }),
      }),
      fc.record({ kind: fc.constant('bytes' as const) }),
      fc.record({ kind: fc.constant('release' as const) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const memory = slab(30 * 40);
        // Expectations come from a pristine copy: debug mode poisons regions as they go back.
        const original = Buffer.from(memory);
        const owner = new RecordingOwner();
        const buffer = new LinkBuffer({ debug: true, allocator: new CountingAllocator() });
        let appended = 0;
        let consumed = 0;
        let tokens = 0;
        const held: Array<[Uint8Array, number]> = []; // view and its stream offset
        for (const op of steps) {
          const readable = appended - consumed;
          if (op.kind === 'append') {
            buffer.appendRegion(memory, appended, appended + op.size, owner, ++tokens);
            appended += op.size;
          } else if (op.kind === 'release') {
            for (const [view, at] of held)
              expect([...view]).toEqual(bytesOf(original, at, at + view.length));
            held.length = 0;
            buffer.release();
          } else if (op.kind === 'bytes') {
            held.push([buffer.bytes(), consumed]);
          } else if (op.size <= readable) {
            if (op.kind === 'next') held.push([buffer.next(op.size), consumed]);
            else if (op.kind === 'skip') buffer.skip(op.size);
            else {
              const target = Buffer.alloc(op.size);
              expect(buffer.read(target)).toBe(op.size);
              expect([...target]).toEqual(bytesOf(original, consumed, consumed + op.size));
            }
            consumed += op.size;
          }
          expect(buffer.len()).toBe(appended - consumed);
        }
        for (const [view, at] of held)
          expect([...view]).toEqual(bytesOf(original, at, at + view.length));
        buffer.close();
        expect(owner.released.sort((a, b) => a - b)).toEqual(
          Array.from({ length: tokens }, (_, i) => i + 1),
        );
      }),
      { numRuns: 500 },
    );
  });
});
