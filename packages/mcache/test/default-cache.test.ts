import { BufferCache, capacityOf, defaultCache, free, malloc, stats, trim } from '../src/index';

describe('default cache functions', () => {
  it('uses one BufferCache with default sizes', () => {
    expect(defaultCache).toBeInstanceOf(BufferCache);
    expect(defaultCache.options).toMatchObject({
      maxPooledSize: 8388608,
      maxBytesPerClass: 8388608,
      slabSize: 262144,
    });
  });

  it('turns debug mode on when NETPOLL_DEBUG=1 is set at import', () => {
    const saved = process.env.NETPOLL_DEBUG;
    process.env.NETPOLL_DEBUG = '1';
    try {
      jest.isolateModules(() => {
        const fresh = require('../src/index') as typeof import('../src/index');
        expect(fresh.defaultCache.options.debug).toBe(true);
        const buffer = fresh.malloc(8);
        const stale = Buffer.from(buffer.buffer, buffer.byteOffset, 8);
        fresh.free(buffer);
        expect([...stale]).toEqual(new Array(8).fill(fresh.POISON_BYTE));
      });
    } finally {
      if (saved === undefined) delete process.env.NETPOLL_DEBUG;
      else process.env.NETPOLL_DEBUG = saved;
    }
  });

  it('malloc, capacityOf and free go through defaultCache', () => {
    const before = stats();
    const buffer = malloc(5);
    expect(buffer.length).toBe(5);
    expect(capacityOf(buffer)).toBe(8);
    expect(defaultCache.capacityOf(buffer)).toBe(8);
    free(buffer);
    const after = stats();
    expect(after.classes[3]!.heldBuffers).toBe(before.classes[3]!.heldBuffers + 1);
    expect(after.misses + after.hits).toBe(before.misses + before.hits + 1);
  });

  it('malloc passes the capacity through', () => {
    const buffer = malloc(3, 100);
    expect(buffer.length).toBe(3);
    expect(capacityOf(buffer)).toBe(128);
    free(buffer);
  });

  it('malloc throws ERR_NETPOLL_INVALID_ARG on two extra arguments', () => {
    expect(() => (malloc as (...args: number[]) => Buffer)(1, 2, 3)).toThrow(
      expect.objectContaining({
        code: 'ERR_NETPOLL_INVALID_ARG',
        message: 'malloc arguments must be at most 2 (size, capacity) (received 3)',
      }),
    );
  });

  it('free rejects a buffer of another cache', () => {
    const other = new BufferCache();
    expect(() => free(other.malloc(8))).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_MCACHE_FOREIGN_BUFFER' }),
    );
  });

  it('trim empties the free lists of the default cache', () => {
    free(malloc(32));
    const held = stats().heldBytes;
    expect(held).toBeGreaterThanOrEqual(32);
    expect(trim()).toBe(held);
    expect(stats().heldBytes).toBe(0);
  });

  it('stats returns a frozen snapshot that later activity does not change', () => {
    const snapshot = stats();
    const held = snapshot.classes[4]!.heldBuffers;
    free(malloc(16));
    expect(snapshot.classes[4]!.heldBuffers).toBe(held);
    expect(Object.isFrozen(snapshot)).toBe(true);
    expect(Object.isFrozen(snapshot.classes[4])).toBe(true);
  });
});
