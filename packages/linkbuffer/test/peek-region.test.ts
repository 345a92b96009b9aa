/**
 * `peekRegion(n)`: the bytes `peek(n)` would show, without a view object when they lie in one
 * node (the node's own Buffer, the bytes at `peekStart`), and `peek(n)`'s bytes with `peekStart`
 * 0 otherwise. Nothing is consumed; the bytes stay valid until `release()`, as `peek()`'s do.
 */
import { ClosedError, NotEnoughDataError, OutOfRangeError } from '../src/errors';
import { LinkBuffer } from '../src/link-buffer';
import { kPoisonByte } from '../src/options';
import { RecordingOwner } from './helpers/counting-allocator';
import { chained, put, text } from './helpers/fill';

/** `buffer[start, start + n)` as text. */
function range(buffer: Buffer, start: number, n: number): string {
  return buffer.toString('latin1', start, start + n);
}

describe('peekRegion', () => {
  it('inside one node returns that node’s memory itself, the bytes at peekStart, consuming nothing', () => {
    const slab = Buffer.from('xxhello worldyy', 'latin1');
    const buffer = new LinkBuffer();
    buffer.appendRegion(slab, 2, 13, new RecordingOwner(), 1);
    const whole = buffer.peekRegion(5);
    expect(whole).toBe(slab); // no view made: the very Buffer the region was lent in
    expect(buffer.peekStart).toBe(2);
    expect(range(whole, buffer.peekStart, 5)).toBe('hello');
    expect(buffer.len()).toBe(11);
    buffer.skip(6);
    expect(buffer.peekRegion(5)).toBe(slab);
    expect(buffer.peekStart).toBe(8);
    expect(range(slab, buffer.peekStart, 5)).toBe('world');
    expect(text(buffer.next(5))).toBe('world');
  });

  it('across nodes returns peek()’s contiguous bytes with peekStart 0', () => {
    const { buffer } = chained(['abc', 'defg']);
    buffer.skip(1);
    const spanning = buffer.peekRegion(5);
    expect(buffer.peekStart).toBe(0);
    expect(range(spanning, 0, 5)).toBe('bcdef');
    expect(buffer.len()).toBe(6);
    // The next peek inside one node sets peekStart again.
    buffer.skip(2);
    const inside = buffer.peekRegion(2);
    expect(range(inside, buffer.peekStart, 2)).toBe('de');
  });

  it('takes the arguments and throws the errors of peek()', () => {
    const buffer = new LinkBuffer();
    put(buffer, 'abc');
    buffer.peekRegion(2);
    expect(buffer.peekRegion(0).length).toBe(0);
    expect(buffer.peekStart).toBe(0);
    expect(() => buffer.peekRegion(4)).toThrow(NotEnoughDataError);
    expect(() => buffer.peekRegion(-1)).toThrow(OutOfRangeError);
    expect(() => buffer.peekRegion(1.5)).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_INVALID_ARG' }),
    );
    expect(buffer.len()).toBe(3);
    buffer.close();
    expect(() => buffer.peekRegion(1)).toThrow(ClosedError);
  });

  it('keeps the node’s bytes until release(), even once read() has consumed them', () => {
    for (const skipFirst of [true, false]) {
      // Two nodes; skipping a byte first makes the first the read node (the inline path).
      const { buffer } = chained([skipFirst ? '>frame body' : 'frame body', 'next'], {
        debug: true,
      });
      if (skipFirst) buffer.skip(1);
      const memory = buffer.peekRegion(10);
      const start = buffer.peekStart;
      // read() copies out and frees (poisons, in debug mode) the nodes it consumed that no view
      // was handed out of; this one must stay.
      expect(buffer.read(Buffer.alloc(12))).toBe(12);
      expect(range(memory, start, 10)).toBe('frame body');
      buffer.release();
      expect([...memory.subarray(start, start + 10)]).toEqual(Array(10).fill(kPoisonByte));
    }
  });
});
