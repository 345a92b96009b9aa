import {
  BufferCache,
  type BufferCacheOptions,
  isNetpollError,
  kDefaultBufferCacheOptions,
} from '../src/index';
import { resolveBufferCacheOptions } from '../src/options';

function expectOptionError(options: unknown, code: string, message: string): void {
  let caught: unknown;
  try {
    new BufferCache(options as BufferCacheOptions);
  } catch (error) {
    caught = error;
  }
  expect(isNetpollError(caught)).toBe(true);
  expect(caught).toBeInstanceOf(code === 'ERR_NETPOLL_INVALID_ARG' ? TypeError : RangeError);
  expect((caught as { code: string }).code).toBe(code);
  expect((caught as Error).message).toBe(message);
}

describe('resolveBufferCacheOptions', () => {
  const saved = process.env.NETPOLL_DEBUG;
  afterEach(() => {
    if (saved === undefined) delete process.env.NETPOLL_DEBUG;
    else process.env.NETPOLL_DEBUG = saved;
  });

  it('has frozen defaults: 8 MiB pooled, 8 MiB per class, 256 KiB slabs, no debug', () => {
    expect(kDefaultBufferCacheOptions).toEqual({
      maxPooledSize: 8388608,
      maxBytesPerClass: 8388608,
      slabSize: 262144,
      debug: false,
    });
    expect(Object.isFrozen(kDefaultBufferCacheOptions)).toBe(true);
  });

  it('applies the defaults to undefined and to an empty object', () => {
    delete process.env.NETPOLL_DEBUG;
    expect(resolveBufferCacheOptions(undefined)).toEqual(kDefaultBufferCacheOptions);
    expect(resolveBufferCacheOptions({})).toEqual(kDefaultBufferCacheOptions);
  });

  it('exposes the resolved options frozen on the cache, without keeping the input', () => {
    delete process.env.NETPOLL_DEBUG;
    const input = { maxPooledSize: 1024, slabSize: 4096 };
    const cache = new BufferCache(input);
    input.maxPooledSize = 2048;
    expect(cache.options).toEqual({
      maxPooledSize: 1024,
      maxBytesPerClass: 8388608,
      slabSize: 4096,
      debug: false,
    });
    expect(Object.isFrozen(cache.options)).toBe(true);
  });

  it('turns debug on when NETPOLL_DEBUG=1', () => {
    process.env.NETPOLL_DEBUG = '1';
    expect(resolveBufferCacheOptions(undefined).debug).toBe(true);
    expect(resolveBufferCacheOptions({}).debug).toBe(true);
  });

  it('lets an explicit debug option win over NETPOLL_DEBUG', () => {
    process.env.NETPOLL_DEBUG = '1';
    expect(resolveBufferCacheOptions({ debug: false }).debug).toBe(false);
  });

  it('ignores NETPOLL_DEBUG values other than 1', () => {
    process.env.NETPOLL_DEBUG = 'true';
    expect(resolveBufferCacheOptions(undefined).debug).toBe(false);
  });

  it('reports an unknown key with a stack whose first line is its message', () => {
    let caught: unknown;
    try {
      resolveBufferCacheOptions({ maxpooledsize: 1024 });
    } catch (error) {
      caught = error;
    }
    expect((caught as Error).stack?.split('\n')[0]).toBe(
      'InvalidArgumentError: options.maxpooledsize is not a known option (did you mean maxPooledSize?)',
    );
  });

  it('accepts maxBytesPerClass 0 and maxPooledSize 1', () => {
    expect(resolveBufferCacheOptions({ maxBytesPerClass: 0, maxPooledSize: 1 })).toMatchObject({
      maxBytesPerClass: 0,
      maxPooledSize: 1,
    });
  });

  it.each([
    [
      'rejects options that are not an object',
      5,
      'ERR_NETPOLL_INVALID_ARG',
      'options must be an object or undefined (received 5)',
    ],
    [
      'rejects null options',
      null,
      'ERR_NETPOLL_INVALID_ARG',
      'options must be an object or undefined (received null)',
    ],
    [
      'rejects an array as options',
      [],
      'ERR_NETPOLL_INVALID_ARG',
      'options must be an object or undefined (received an array)',
    ],
    [
      'rejects a misspelt option key and names the close one',
      { maxPoolSize: 1 },
      'ERR_NETPOLL_INVALID_ARG',
      'options.maxPoolSize is not a known option (did you mean maxPooledSize?)',
    ],
    [
      'rejects an option key that differs only in case and names the known one',
      { SlabSize: 1024 },
      'ERR_NETPOLL_INVALID_ARG',
      'options.SlabSize is not a known option (did you mean slabSize?)',
    ],
    [
      'rejects an unknown option key without a suggestion when none is close',
      { capacity: 1 },
      'ERR_NETPOLL_INVALID_ARG',
      'options.capacity is not a known option',
    ],
    [
      'rejects an unknown option key whose value is undefined',
      { debg: undefined },
      'ERR_NETPOLL_INVALID_ARG',
      'options.debg is not a known option (did you mean debug?)',
    ],
    [
      'rejects a maxPooledSize that is not a number',
      { maxPooledSize: '8' },
      'ERR_NETPOLL_INVALID_ARG',
      'options.maxPooledSize must be a number (received "8")',
    ],
    [
      'rejects a maxPooledSize that is not a power of two',
      { maxPooledSize: 1000 },
      'ERR_NETPOLL_OUT_OF_RANGE',
      'options.maxPooledSize must be a power of two from 1 to 1073741824 (received 1000)',
    ],
    [
      'rejects a maxPooledSize below 1',
      { maxPooledSize: 0 },
      'ERR_NETPOLL_OUT_OF_RANGE',
      'options.maxPooledSize must be a power of two from 1 to 1073741824 (received 0)',
    ],
    [
      'rejects a maxPooledSize above 1 GiB',
      { maxPooledSize: 2 ** 31 },
      'ERR_NETPOLL_OUT_OF_RANGE',
      'options.maxPooledSize must be a power of two from 1 to 1073741824 (received 2147483648)',
    ],
    [
      'rejects a slabSize that is not a number',
      { slabSize: true },
      'ERR_NETPOLL_INVALID_ARG',
      'options.slabSize must be a number (received true)',
    ],
    [
      'rejects a slabSize that is not a power of two',
      { slabSize: 3000 },
      'ERR_NETPOLL_OUT_OF_RANGE',
      'options.slabSize must be a power of two from 1024 to 1073741824 (received 3000)',
    ],
    [
      'rejects a slabSize below 1 KiB',
      { slabSize: 512 },
      'ERR_NETPOLL_OUT_OF_RANGE',
      'options.slabSize must be a power of two from 1024 to 1073741824 (received 512)',
    ],
    [
      'rejects a slabSize above 1 GiB',
      { slabSize: 2 ** 31 },
      'ERR_NETPOLL_OUT_OF_RANGE',
      'options.slabSize must be a power of two from 1024 to 1073741824 (received 2147483648)',
    ],
    [
      'rejects a maxBytesPerClass that is not a number',
      { maxBytesPerClass: '1' },
      'ERR_NETPOLL_INVALID_ARG',
      'options.maxBytesPerClass must be a number (received "1")',
    ],
    [
      'rejects a negative maxBytesPerClass',
      { maxBytesPerClass: -1 },
      'ERR_NETPOLL_OUT_OF_RANGE',
      'options.maxBytesPerClass must be a non-negative safe integer (received -1)',
    ],
    [
      'rejects a fractional maxBytesPerClass',
      { maxBytesPerClass: 1.5 },
      'ERR_NETPOLL_OUT_OF_RANGE',
      'options.maxBytesPerClass must be a non-negative safe integer (received 1.5)',
    ],
    [
      'rejects a maxBytesPerClass beyond the safe integers',
      { maxBytesPerClass: 2 ** 53 },
      'ERR_NETPOLL_OUT_OF_RANGE',
      'options.maxBytesPerClass must be a non-negative safe integer (received 9007199254740992)',
    ],
    [
      'rejects a debug option that is not a boolean',
      { debug: 1 },
      'ERR_NETPOLL_INVALID_ARG',
      'options.debug must be a boolean (received 1)',
    ],
  ] as const)('%s', (_, options, code, message) => {
    expectOptionError(options, code, message);
  });
});
