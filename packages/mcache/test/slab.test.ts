import { type Block, kSlab, Slab, slabOf, type TaggedArrayBuffer } from '../src/slab';

describe('Slab', () => {
  const owner = {};

  it('tags its ArrayBuffer so slabOf finds it from any Buffer over that memory', () => {
    const memory = new ArrayBuffer(256);
    const slab = new Slab(owner, 6, 6, memory, 4);
    expect((memory as TaggedArrayBuffer)[kSlab]).toBe(slab);
    expect(slabOf(Buffer.from(memory, 64, 10))).toBe(slab);
    expect(slabOf(new Uint8Array(memory))).toBe(slab);
  });

  it('carves regions in order, each a view of the class size at index << shift', () => {
    const memory = new ArrayBuffer(256);
    const slab = new Slab(owner, 6, 6, memory, 4);
    const registry = new WeakMap<Buffer, Block>();
    const blocks = [slab.carve(64, registry), slab.carve(64, registry)];
    expect(blocks.map((block) => [block.index, block.offset, block.view.byteOffset])).toEqual([
      [0, 0, 0],
      [1, 64, 64],
    ]);
    expect(blocks[1]!.view.length).toBe(64);
    expect(blocks[1]!.view.buffer).toBe(memory);
    expect(slab.blocks).toEqual(blocks);
    expect(registry.get(blocks[1]!.view)).toBe(blocks[1]);
    expect(blocks[0]!.live).toBeUndefined();
  });

  it('slabOf returns undefined for untagged memory and for non-Buffers', () => {
    expect(slabOf(Buffer.alloc(8))).toBeUndefined();
    expect(slabOf(new DataView(new ArrayBuffer(8)))).toBeUndefined();
    expect(slabOf(undefined)).toBeUndefined();
    expect(slabOf({ buffer: {} })).toBeUndefined();
  });
});
