/**
 * BufferCache: netpoll's conformance cases, reuse of freed Buffers, the per-class byte cap and
 * trim().
 */
import { BufferCache } from '../src/index';
import { expectCode } from './helpers/expect-code';

describe('BufferCache conformance (netpoll semantics item 36, adapted)', () => {
  const cache = new BufferCache({ debug: false });

  it('malloc(5) has length 5 and capacity 8', () => {
    const buffer = cache.malloc(5);
    expect(buffer).toBeInstanceOf(Buffer);
    expect(buffer.length).toBe(5);
    expect(cache.capacityOf(buffer)).toBe(8);
  });

  it('malloc(0) has length 0 and capacity 1', () => {
    const buffer = cache.malloc(0);
    expect(buffer.length).toBe(0);
    expect(cache.capacityOf(buffer)).toBe(1);
  });

  it('malloc(3, 100) has length 3 and capacity 128', () => {
    const buffer = cache.malloc(3, 100);
    expect(buffer.length).toBe(3);
    expect(cache.capacityOf(buffer)).toBe(128);
  });

  it('a capacity below the size means the size', () => {
    const buffer = cache.malloc(100, 3);
    expect(buffer.length).toBe(100);
    expect(cache.capacityOf(buffer)).toBe(128);
  });

  it('throws ERR_NETPOLL_INVALID_ARG on two extra arguments (gopkg panics)', () => {
    const error = expectCode(
      () => (cache.malloc as (...args: number[]) => Buffer)(3, 4, 5),
      'ERR_NETPOLL_INVALID_ARG',
      TypeError,
    );
    expect(error.message).toBe('malloc arguments must be at most 2 (size, capacity) (received 3)');
  });

  it('rejects freeing a buffer of non-power-of-two capacity instead of ignoring it', () => {
    expectCode(() => cache.free(Buffer.allocUnsafe(5)), 'ERR_NETPOLL_MCACHE_FOREIGN_BUFFER');
  });

  it('rejects freeing a power-of-two buffer the cache did not hand out', () => {
    expectCode(() => cache.free(Buffer.allocUnsafeSlow(64)), 'ERR_NETPOLL_MCACHE_FOREIGN_BUFFER');
  });
});

describe('BufferCache reuse (netpoll semantics item 35)', () => {
  it('hands a freed buffer back, with stale contents, to the next malloc of the same class', () => {
    const cache = new BufferCache({ debug: false });
    const first = cache.malloc(5);
    first.write('hello', 'latin1');
    const { buffer, byteOffset } = first;
    cache.free(first);
    const second = cache.malloc(7);
    expect(second.buffer).toBe(buffer);
    expect(second.byteOffset).toBe(byteOffset);
    expect(second.toString('latin1', 0, 5)).toBe('hello');
  });

  it('returns the very same Buffer object when the size equals the class capacity', () => {
    const cache = new BufferCache({ debug: false });
    const first = cache.malloc(4096);
    cache.free(first);
    expect(cache.malloc(4096)).toBe(first);
  });

  it('reuses the Buffer object of an odd size when the same size comes back', () => {
    const cache = new BufferCache({ debug: false });
    const first = cache.malloc(100);
    cache.free(first);
    const second = cache.malloc(100);
    expect(second).toBe(first);
    cache.free(second);
    const third = cache.malloc(100);
    expect(third).toBe(first);
    cache.free(third);
    expect(cache.stats().classes[7]).toMatchObject({ hits: 2, misses: 1, heldBuffers: 1 });
  });

  it('makes a new view for a different odd size over the same memory', () => {
    const cache = new BufferCache({ debug: false });
    const first = cache.malloc(100);
    cache.free(first);
    const second = cache.malloc(90);
    expect(second).not.toBe(first);
    expect(second.length).toBe(90);
    expect(second.buffer).toBe(first.buffer);
    expect(second.byteOffset).toBe(first.byteOffset);
    // The replaced view is not live, so freeing it is rejected and the live one survives.
    expect(() => cache.free(first)).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_MCACHE_DOUBLE_FREE' }),
    );
    cache.free(second);
    expect(cache.stats().classes[7]).toMatchObject({ liveBuffers: 0, heldBuffers: 1 });
  });

  it('rejects a second free of a reused odd-size view', () => {
    const cache = new BufferCache({ debug: false });
    const buffer = cache.malloc(100);
    cache.free(buffer);
    expect(cache.malloc(100)).toBe(buffer);
    cache.free(buffer);
    const error = expectCode(() => cache.free(buffer), 'ERR_NETPOLL_MCACHE_DOUBLE_FREE');
    expect(error.message).toMatch(/freed already/);
  });

  it('never pools buffers larger than maxPooledSize', () => {
    const cache = new BufferCache({ maxPooledSize: 1024 });
    const large = cache.malloc(1025);
    expect(large.length).toBe(1025);
    expect(cache.capacityOf(large)).toBe(1025);
    cache.free(large);
    const again = cache.malloc(1025);
    expect(again.buffer).not.toBe(large.buffer);
    const stats = cache.stats();
    expect(stats.heldBuffers).toBe(0);
    expect(stats.unpooledAllocations).toBe(2);
    expect(stats.unpooledBytes).toBe(2050);
    expect(stats.classes).toHaveLength(11);
  });

  it('gives an unpooled allocation exactly max(size, capacity) bytes', () => {
    const cache = new BufferCache({ maxPooledSize: 1024 });
    const buffer = cache.malloc(10, 5000);
    expect(buffer.length).toBe(10);
    expect(cache.capacityOf(buffer)).toBe(5000);
    expect(buffer.buffer.byteLength).toBe(5000);
  });

  it('carves small classes from one shared slab instead of one ArrayBuffer each', () => {
    const cache = new BufferCache({ slabSize: 64 * 1024 });
    const buffers = Array.from({ length: 10 }, () => cache.malloc(64));
    const arrayBuffers = new Set(buffers.map((buffer) => buffer.buffer));
    expect(arrayBuffers.size).toBe(1);
    expect(buffers.map((buffer) => buffer.byteOffset)).toEqual(
      Array.from({ length: 10 }, (_, index) => index * 64),
    );
    expect(cache.stats().classes[6]).toMatchObject({ slabs: 1, slabBytes: 256 * 64 });
  });

  it('gives a class at least the slab size one ArrayBuffer per buffer', () => {
    const cache = new BufferCache({ slabSize: 1024 });
    const a = cache.malloc(2048);
    const b = cache.malloc(2048);
    expect(a.buffer).not.toBe(b.buffer);
    expect(a.buffer.byteLength).toBe(2048);
  });

  it('never hands out memory of one live buffer to another', () => {
    const cache = new BufferCache({ slabSize: 1024 });
    const live = Array.from({ length: 40 }, (_, index) => {
      const buffer = cache.malloc(100);
      buffer.fill(index);
      return buffer;
    });
    live.forEach((buffer, index) => {
      expect(buffer.every((byte) => byte === index)).toBe(true);
    });
  });
});

describe('BufferCache per-class byte cap', () => {
  it('holds at most maxBytesPerClass bytes per class and drops the rest', () => {
    const cache = new BufferCache({ maxBytesPerClass: 4096 });
    const buffers = [cache.malloc(2048), cache.malloc(2048), cache.malloc(2048)];
    for (const buffer of buffers) cache.free(buffer);
    const entry = cache.stats().classes[11]!;
    expect(entry).toMatchObject({ capacity: 2048, heldBuffers: 2, heldBytes: 4096, drops: 1 });
  });

  it('caps each class on its own', () => {
    const cache = new BufferCache({ maxBytesPerClass: 256 });
    const small = Array.from({ length: 8 }, () => cache.malloc(32));
    const large = [cache.malloc(128), cache.malloc(128), cache.malloc(128)];
    for (const buffer of [...small, ...large]) cache.free(buffer);
    const stats = cache.stats();
    expect(stats.classes[5]).toMatchObject({ heldBuffers: 8, drops: 0 });
    expect(stats.classes[7]).toMatchObject({ heldBuffers: 2, drops: 1 });
  });

  it('keeps nothing when maxBytesPerClass is 0', () => {
    const cache = new BufferCache({ maxBytesPerClass: 0 });
    const buffer = cache.malloc(16);
    cache.free(buffer);
    expect(cache.stats()).toMatchObject({ heldBuffers: 0, drops: 1, hits: 0 });
  });

  it('keeps a class whose capacity exceeds the cap uncached', () => {
    const cache = new BufferCache({ maxBytesPerClass: 1000 });
    cache.free(cache.malloc(1024));
    expect(cache.stats().classes[10]).toMatchObject({ heldBuffers: 0, drops: 1 });
  });

  it('reuses a dropped region of a live slab before carving new memory', () => {
    const cache = new BufferCache({ maxBytesPerClass: 0, slabSize: 1024 });
    const keep = cache.malloc(64);
    const dropped = cache.malloc(64);
    const offset = dropped.byteOffset;
    cache.free(dropped);
    const next = cache.malloc(64);
    expect(next.buffer).toBe(keep.buffer);
    expect(next.byteOffset).toBe(offset);
    expect(cache.stats().classes[6]).toMatchObject({ slabs: 1, misses: 3 });
  });

  it('forgets a slab once every region in it is dropped and it is not the carving slab', () => {
    const cache = new BufferCache({ maxBytesPerClass: 0, slabSize: 2048 });
    // A 1 KiB class has two regions per 2 KiB slab: fill the first slab, start a second.
    const first = [cache.malloc(1024), cache.malloc(1024)];
    const second = cache.malloc(1024);
    expect(second.buffer).not.toBe(first[0]!.buffer);
    expect(cache.stats().classes[10]).toMatchObject({ slabs: 2, slabBytes: 4096 });
    cache.free(first[0]!);
    expect(cache.stats().classes[10]).toMatchObject({ slabs: 2 });
    cache.free(first[1]!);
    expect(cache.stats().classes[10]).toMatchObject({ slabs: 1, slabBytes: 2048, drops: 2 });
    // The next allocation carves the current slab's free region, not the forgotten slab.
    expect(cache.malloc(1024).buffer).toBe(second.buffer);
  });
});

describe('BufferCache.trim', () => {
  it('drops every held buffer, returns the bytes held, and lets unpinned slabs go', () => {
    const cache = new BufferCache({ slabSize: 2048 });
    const small = Array.from({ length: 3 }, () => cache.malloc(64));
    const large = [cache.malloc(4096), cache.malloc(4096)];
    for (const buffer of [...small, ...large]) cache.free(buffer);
    expect(cache.stats()).toMatchObject({ heldBuffers: 5, heldBytes: 3 * 64 + 2 * 4096, slabs: 3 });
    expect(cache.trim()).toBe(3 * 64 + 2 * 4096);
    const stats = cache.stats();
    expect(stats).toMatchObject({ heldBuffers: 0, heldBytes: 0, drops: 0, liveBuffers: 0 });
    // A 4 KiB buffer has its own slab, so only the current 64-byte and 4 KiB slabs remain.
    expect(stats.classes[6]).toMatchObject({ slabs: 1 });
    expect(stats.classes[12]).toMatchObject({ slabs: 1 });
  });

  it('leaves live buffers alone and refills on later mallocs', () => {
    const cache = new BufferCache();
    const live = cache.malloc(100);
    live.fill(5);
    cache.free(cache.malloc(100));
    expect(cache.trim()).toBe(128);
    expect(live.every((byte) => byte === 5)).toBe(true);
    cache.free(live);
    const again = cache.malloc(100);
    expect(cache.stats().classes[7]).toMatchObject({ liveBuffers: 1, heldBuffers: 0, hits: 1 });
    cache.free(again);
  });

  it('returns 0 for an empty cache', () => {
    expect(new BufferCache().trim()).toBe(0);
  });
});
