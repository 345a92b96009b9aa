import { BufferCache } from '../src/index';

describe('BufferCache.stats', () => {
  it('starts at zero with one entry per class', () => {
    const stats = new BufferCache({ maxPooledSize: 4096 }).stats();
    expect(stats).toMatchObject({
      hits: 0,
      misses: 0,
      drops: 0,
      liveBuffers: 0,
      heldBuffers: 0,
      heldBytes: 0,
      slabs: 0,
      slabBytes: 0,
      unpooledAllocations: 0,
      unpooledBytes: 0,
    });
    expect(stats.classes.map((entry) => entry.capacity)).toEqual(
      Array.from({ length: 13 }, (_, index) => 2 ** index),
    );
  });

  it('counts a miss for fresh memory and a hit for reused memory', () => {
    const cache = new BufferCache();
    const buffer = cache.malloc(1000);
    cache.free(buffer);
    cache.malloc(1000);
    expect(cache.stats().classes[10]).toMatchObject({
      capacity: 1024,
      hits: 1,
      misses: 1,
      liveBuffers: 1,
      heldBuffers: 0,
    });
  });

  it('reports live and held buffers and bytes per class', () => {
    const cache = new BufferCache({ slabSize: 1024 });
    const buffers = [cache.malloc(64), cache.malloc(64), cache.malloc(64)];
    cache.free(buffers[0]!);
    expect(cache.stats().classes[6]).toMatchObject({
      liveBuffers: 2,
      heldBuffers: 1,
      heldBytes: 64,
      slabs: 1,
      slabBytes: 1024,
    });
  });

  it('sums every class into the totals', () => {
    const cache = new BufferCache({ maxBytesPerClass: 64 });
    const buffers = [cache.malloc(8), cache.malloc(8), cache.malloc(64), cache.malloc(64)];
    for (const buffer of buffers) cache.free(buffer);
    cache.malloc(8);
    const stats = cache.stats();
    const sum = (key: 'hits' | 'misses' | 'drops' | 'liveBuffers' | 'heldBuffers' | 'heldBytes') =>
      stats.classes.reduce((total, entry) => total + entry[key], 0);
    expect(stats).toMatchObject({
      hits: 1,
      misses: 4,
      drops: 1,
      liveBuffers: 1,
      heldBuffers: 2,
      heldBytes: 8 + 64,
    });
    for (const key of [
      'hits',
      'misses',
      'drops',
      'liveBuffers',
      'heldBuffers',
      'heldBytes',
    ] as const) {
      expect(stats[key]).toBe(sum(key));
    }
    expect(stats.slabs).toBe(stats.classes.reduce((total, entry) => total + entry.slabs, 0));
  });
});
