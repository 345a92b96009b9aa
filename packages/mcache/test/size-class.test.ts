import { classIndexOf, kMaxBlocksPerSlab, slabGeometry } from '../src/size-class';

describe('classIndexOf', () => {
  it('maps 0 and 1 to class 0 (capacity 1)', () => {
    expect(classIndexOf(0)).toBe(0);
    expect(classIndexOf(1)).toBe(0);
  });

  it('maps a power of two to its own class', () => {
    for (let index = 1; index <= 31; index++) expect(classIndexOf(2 ** index)).toBe(index);
  });

  it('rounds everything else up to the next power of two', () => {
    expect(classIndexOf(3)).toBe(2);
    expect(classIndexOf(5)).toBe(3);
    expect(classIndexOf(100)).toBe(7);
    expect(classIndexOf(4097)).toBe(13);
    expect(classIndexOf(2 ** 30 + 1)).toBe(31);
  });
});

describe('slabGeometry', () => {
  it('shares a slab among at most kMaxBlocksPerSlab buffers of a small class', () => {
    expect(slabGeometry(0, 256 * 1024)).toEqual({ blockCount: kMaxBlocksPerSlab, byteLength: 256 });
    expect(slabGeometry(6, 256 * 1024)).toEqual({ blockCount: 256, byteLength: 16 * 1024 });
  });

  it('fills the slab size when fewer than kMaxBlocksPerSlab buffers fit', () => {
    expect(slabGeometry(12, 256 * 1024)).toEqual({ blockCount: 64, byteLength: 256 * 1024 });
  });

  it('gives a class at least the slab size one buffer per slab', () => {
    expect(slabGeometry(18, 256 * 1024)).toEqual({ blockCount: 1, byteLength: 256 * 1024 });
    expect(slabGeometry(23, 256 * 1024)).toEqual({ blockCount: 1, byteLength: 8 * 1024 * 1024 });
  });
});
