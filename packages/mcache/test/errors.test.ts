import { join } from 'node:path';
import { readmeErrorCodes } from '@netpoll/jest-config';
import { describe as describeValue } from '../src/errors';
import {
  AllocationFailedError,
  DoubleFreeError,
  ForeignBufferError,
  InvalidArgumentError,
  isNetpollError,
  kMcacheErrorCodes,
  OutOfRangeError,
} from '../src/index';

describe('error registry', () => {
  it('lists every code of src/errors.ts in the README Errors table, and nothing else', () => {
    expect([...readmeErrorCodes(join(__dirname, '..'))].sort()).toEqual(
      [...kMcacheErrorCodes].sort(),
    );
  });

  it('has no duplicate codes', () => {
    expect(new Set(kMcacheErrorCodes).size).toBe(kMcacheErrorCodes.length);
  });

  it.each([
    [new InvalidArgumentError('options.x', 'a number', 'y'), 'ERR_NETPOLL_INVALID_ARG', TypeError],
    [new OutOfRangeError('size', 'an integer', -1), 'ERR_NETPOLL_OUT_OF_RANGE', RangeError],
    [new ForeignBufferError('detail'), 'ERR_NETPOLL_MCACHE_FOREIGN_BUFFER', Error],
    [new DoubleFreeError('detail'), 'ERR_NETPOLL_MCACHE_DOUBLE_FREE', Error],
    [
      new AllocationFailedError(8, new Error('x')),
      'ERR_NETPOLL_MCACHE_ALLOCATION_FAILED',
      RangeError,
    ],
  ])('%p carries its code, the marker and its base class', (error, code, base) => {
    expect(error).toBeInstanceOf(base);
    expect(error.code).toBe(code);
    expect(isNetpollError(error)).toBe(true);
    expect((error as unknown as Record<symbol, unknown>)[Symbol.for('netpoll.error')]).toBe(true);
    expect(kMcacheErrorCodes).toContain(code);
  });
});

describe('isNetpollError', () => {
  it('recognises an error of another package by the shared marker', () => {
    const foreign = Object.assign(new Error('x'), { code: 'ERR_NETPOLL_OTHER' });
    Object.defineProperty(foreign, Symbol.for('netpoll.error'), { value: true });
    expect(isNetpollError(foreign)).toBe(true);
  });

  it.each([
    ['a plain Error', new Error('x')],
    ['an Error with a code but no marker', Object.assign(new Error('x'), { code: 'ERR_X' })],
    ['null', null],
    ['a string', 'ERR_NETPOLL_INVALID_ARG'],
    ['undefined', undefined],
  ])('rejects %s', (_, value) => {
    expect(isNetpollError(value)).toBe(false);
  });
});

describe('argument error messages', () => {
  it('follow "<path> must be <expected> (received <actual>)"', () => {
    expect(new InvalidArgumentError('options.debug', 'a boolean', 'yes').message).toBe(
      'options.debug must be a boolean (received "yes")',
    );
    expect(new OutOfRangeError('size', 'an integer', 1.5).message).toBe(
      'size must be an integer (received 1.5)',
    );
  });

  it.each([
    [undefined, 'undefined'],
    [null, 'null'],
    [-0, '-0'],
    [Number.NaN, 'NaN'],
    [12n, '12n'],
    [true, 'true'],
    [Symbol('s'), 'Symbol(s)'],
    [function named() {}, 'a function'],
    [[1], 'an array'],
    [new Map(), 'an instance of Map'],
    [{}, 'an object'],
    ['x'.repeat(50), JSON.stringify(`${'x'.repeat(32)}…`)],
  ])('describe(%p) is %s', (value, text) => {
    expect(describeValue(value)).toBe(text);
  });
});
