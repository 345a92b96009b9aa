/**
 * BufferCache errors and checks: free() of what it did not hand out, capacityOf(), debug mode's
 * poisoning and double-free detection, and malloc()'s argument validation.
 */
import { BufferCache, POISON_BYTE } from '../src/index';
import { expectCode } from './helpers/expect-code';

describe('BufferCache.free errors', () => {
  it('throws ERR_NETPOLL_MCACHE_DOUBLE_FREE on a second free', () => {
    const cache = new BufferCache({ debug: false });
    const buffer = cache.malloc(100);
    cache.free(buffer);
    const error = expectCode(() => cache.free(buffer), 'ERR_NETPOLL_MCACHE_DOUBLE_FREE');
    expect(error.message).toMatch(/freed already/);
  });

  it('throws ERR_NETPOLL_MCACHE_DOUBLE_FREE on a second free of an unpooled buffer', () => {
    const cache = new BufferCache({ maxPooledSize: 64 });
    const buffer = cache.malloc(65);
    cache.free(buffer);
    expectCode(() => cache.free(buffer), 'ERR_NETPOLL_MCACHE_DOUBLE_FREE');
  });

  it('throws ERR_NETPOLL_MCACHE_DOUBLE_FREE for a stale full-size handle of a block now live at an odd size', () => {
    const cache = new BufferCache({ debug: false });
    const stale = cache.malloc(128);
    cache.free(stale);
    const owner = cache.malloc(100);
    const error = expectCode(() => cache.free(stale), 'ERR_NETPOLL_MCACHE_DOUBLE_FREE');
    expect(error.message).toMatch(/freed already, and its memory has been handed out again/);
    cache.free(owner);
  });

  it('throws ERR_NETPOLL_MCACHE_FOREIGN_BUFFER for a buffer of another cache', () => {
    const one = new BufferCache();
    const other = new BufferCache();
    const error = expectCode(() => other.free(one.malloc(8)), 'ERR_NETPOLL_MCACHE_FOREIGN_BUFFER');
    expect(error.message).toMatch(/different BufferCache/);
  });

  it('throws ERR_NETPOLL_MCACHE_FOREIGN_BUFFER for a view inside an allocation', () => {
    const cache = new BufferCache();
    const buffer = cache.malloc(64);
    const error = expectCode(
      () => cache.free(buffer.subarray(8)),
      'ERR_NETPOLL_MCACHE_FOREIGN_BUFFER',
    );
    expect(error.message).toMatch(/byte offset 8 is not the start of an allocation of 64 bytes/);
  });

  it('throws ERR_NETPOLL_MCACHE_DOUBLE_FREE for a copy of the view malloc returned', () => {
    const cache = new BufferCache();
    const buffer = cache.malloc(64);
    const alias = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.length);
    expectCode(() => cache.free(alias), 'ERR_NETPOLL_MCACHE_DOUBLE_FREE');
    cache.free(buffer);
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['a plain object', { buffer: new ArrayBuffer(8), byteOffset: 0 }],
    ['a DataView over a cache slab', new DataView(new BufferCache().malloc(8).buffer)],
  ])('throws ERR_NETPOLL_INVALID_ARG for %s', (_, value) => {
    const cache = new BufferCache();
    const error = expectCode(
      () => cache.free(value as unknown as Buffer),
      'ERR_NETPOLL_INVALID_ARG',
      TypeError,
    );
    expect(error.message).toMatch(/^buffer must be a Buffer \(received /);
  });

  it('leaves the cache consistent after a rejected free', () => {
    const cache = new BufferCache();
    const buffer = cache.malloc(32);
    expect(() => cache.free(buffer.subarray(1))).toThrow();
    cache.free(buffer);
    expect(cache.stats().classes[5]).toMatchObject({ heldBuffers: 1, liveBuffers: 0 });
  });
});

describe('BufferCache.capacityOf', () => {
  it('reports the class capacity for every pooled class up to maxPooledSize', () => {
    const cache = new BufferCache({ maxPooledSize: 1 << 16 });
    for (let index = 0; index <= 16; index++) {
      const size = 2 ** index;
      expect(cache.capacityOf(cache.malloc(size))).toBe(size);
      if (size > 2) expect(cache.capacityOf(cache.malloc(size / 2 + 1))).toBe(size);
    }
  });

  it('throws ERR_NETPOLL_MCACHE_FOREIGN_BUFFER for a foreign buffer', () => {
    const cache = new BufferCache();
    expectCode(() => cache.capacityOf(Buffer.alloc(8)), 'ERR_NETPOLL_MCACHE_FOREIGN_BUFFER');
  });

  it('throws ERR_NETPOLL_INVALID_ARG for something that is not a Buffer', () => {
    const cache = new BufferCache();
    const buffer = cache.malloc(8);
    expectCode(
      () => cache.capacityOf(new DataView(buffer.buffer, buffer.byteOffset) as unknown as Buffer),
      'ERR_NETPOLL_INVALID_ARG',
      TypeError,
    );
  });

  it('throws ERR_NETPOLL_MCACHE_FOREIGN_BUFFER for a view that starts inside an allocation', () => {
    const cache = new BufferCache();
    const buffer = cache.malloc(64);
    expectCode(() => cache.capacityOf(buffer.subarray(1)), 'ERR_NETPOLL_MCACHE_FOREIGN_BUFFER');
  });

  it('lets the owner widen its view to the full capacity', () => {
    const cache = new BufferCache();
    const buffer = cache.malloc(3, 100);
    const wide = Buffer.from(buffer.buffer, buffer.byteOffset, cache.capacityOf(buffer));
    wide.fill(7);
    expect([...buffer]).toEqual([7, 7, 7]);
    expect(wide.length).toBe(128);
    expect(cache.capacityOf(wide)).toBe(128);
  });
});

describe('BufferCache debug mode', () => {
  it('fills freed memory with POISON_BYTE', () => {
    const cache = new BufferCache({ debug: true });
    const buffer = cache.malloc(16);
    buffer.fill(1);
    const stale = Buffer.from(buffer.buffer, buffer.byteOffset, 16);
    cache.free(buffer);
    expect(POISON_BYTE).toBe(0xdd);
    expect([...stale]).toEqual(new Array(16).fill(0xdd));
  });

  it('poisons the whole class capacity, not only the length', () => {
    const cache = new BufferCache({ debug: true });
    const buffer = cache.malloc(3, 64);
    const wide = Buffer.from(buffer.buffer, buffer.byteOffset, 64);
    wide.fill(0);
    cache.free(buffer);
    expect(wide.every((byte) => byte === POISON_BYTE)).toBe(true);
  });

  it('poisons a freed unpooled buffer', () => {
    const cache = new BufferCache({ debug: true, maxPooledSize: 16 });
    const buffer = cache.malloc(20);
    buffer.fill(0);
    cache.free(buffer);
    expect(buffer.every((byte) => byte === POISON_BYTE)).toBe(true);
  });

  it('returns a fresh Buffer object from every malloc', () => {
    const cache = new BufferCache({ debug: true });
    const first = cache.malloc(64);
    cache.free(first);
    const second = cache.malloc(64);
    expect(second).not.toBe(first);
    expect(second.buffer).toBe(first.buffer);
    expect(second.byteOffset).toBe(first.byteOffset);
  });

  it('detects freeing a stale handle whose memory was handed out again', () => {
    const cache = new BufferCache({ debug: true });
    const stale = cache.malloc(64);
    cache.free(stale);
    const owner = cache.malloc(64);
    owner.fill(9);
    const error = expectCode(() => cache.free(stale), 'ERR_NETPOLL_MCACHE_DOUBLE_FREE');
    expect(error.message).toMatch(/newer allocation/);
    expect(owner.every((byte) => byte === 9)).toBe(true);
    cache.free(owner);
  });

  it('reports where the region was last freed in a double-free error', () => {
    const cache = new BufferCache({ debug: true });
    const buffer = cache.malloc(32);
    function releaseForTheFirstTime(): void {
      cache.free(buffer);
    }
    releaseForTheFirstTime();
    const error = expectCode(() => cache.free(buffer), 'ERR_NETPOLL_MCACHE_DOUBLE_FREE');
    expect(error.message).toMatch(
      /it was freed already; it was last freed at\n\s+at releaseForTheFirstTime/,
    );
  });

  it('does not poison without debug mode', () => {
    const cache = new BufferCache({ debug: false });
    const buffer = cache.malloc(16);
    buffer.fill(1);
    cache.free(buffer);
    expect(buffer.every((byte) => byte === 1)).toBe(true);
  });
});

describe('BufferCache.malloc argument validation', () => {
  const cache = new BufferCache();

  it.each([
    ['size is missing', [], 'size must be a number (received undefined)'],
    ['size is a string', ['8'], 'size must be a number (received "8")'],
    ['size is a bigint', [8n], 'size must be a number (received 8n)'],
    ['capacity is a string', [8, '16'], 'capacity must be a number (received "16")'],
    ['capacity is null', [8, null], 'capacity must be a number (received null)'],
    [
      'size is an object with valueOf',
      [{ valueOf: (): number => 8 }],
      'size must be a number (received an object)',
    ],
  ])('throws ERR_NETPOLL_INVALID_ARG when %s', (_, args, message) => {
    const error = expectCode(
      () => (cache.malloc as (...values: unknown[]) => Buffer)(...args),
      'ERR_NETPOLL_INVALID_ARG',
      TypeError,
    );
    expect(error.message).toBe(message);
  });

  const range = 'an integer from 0 to 4294967296';
  it.each([
    ['size is negative', [-1], `size must be ${range} (received -1)`],
    ['size is not an integer', [1.5], `size must be ${range} (received 1.5)`],
    ['size is NaN', [Number.NaN], `size must be ${range} (received NaN)`],
    ['size is Infinity', [Number.POSITIVE_INFINITY], `size must be ${range} (received Infinity)`],
    [
      'size is beyond the Buffer limit',
      [2 ** 32 + 1],
      `size must be ${range} (received 4294967297)`,
    ],
    [
      'size is beyond the safe integers',
      [2 ** 53 + 2],
      `size must be ${range} (received 9007199254740994)`,
    ],
    ['capacity is negative', [1, -1], `capacity must be ${range} (received -1)`],
    ['capacity is not an integer', [1, 2.5], `capacity must be ${range} (received 2.5)`],
    ['capacity is NaN', [1, Number.NaN], `capacity must be ${range} (received NaN)`],
  ])('throws ERR_NETPOLL_OUT_OF_RANGE when %s', (_, args, message) => {
    const error = expectCode(
      () => (cache.malloc as (...values: unknown[]) => Buffer)(...args),
      'ERR_NETPOLL_OUT_OF_RANGE',
      RangeError,
    );
    expect(error.message).toBe(message);
  });

  it('accepts an explicit undefined capacity', () => {
    const buffer = cache.malloc(5, undefined);
    expect(cache.capacityOf(buffer)).toBe(8);
  });

  it('throws ERR_NETPOLL_MCACHE_ALLOCATION_FAILED when the engine cannot allocate', () => {
    const spy = jest.spyOn(Buffer, 'allocUnsafeSlow').mockImplementation(() => {
      throw new RangeError('Array buffer allocation failed');
    });
    try {
      const fresh = new BufferCache();
      const error = expectCode(
        () => fresh.malloc(64),
        'ERR_NETPOLL_MCACHE_ALLOCATION_FAILED',
        RangeError,
      );
      expect(error.message).toBe('could not allocate 16384 bytes');
      expect((error.cause as Error).message).toBe('Array buffer allocation failed');
      expect(fresh.stats()).toMatchObject({ slabs: 0, liveBuffers: 0, misses: 0, hits: 0 });
    } finally {
      spy.mockRestore();
    }
  });
});
