import { join } from 'node:path';
import { readmeErrorCodes } from '@netpoll/jest-config';
import {
  ClosedError,
  DelimiterNotFoundError,
  describe as describeValue,
  InvalidArgumentError,
  isNetpollError,
  kLinkBufferErrorCodes,
  NotEnoughDataError,
  OutOfRangeError,
  ReadOnlyError,
} from '../src/errors';

describe('errors', () => {
  it('every code in src/errors.ts is in the README Errors table and vice versa', () => {
    expect([...readmeErrorCodes(join(__dirname, '..'))].sort()).toEqual(
      [...kLinkBufferErrorCodes].sort(),
    );
  });

  it('every error class carries its code, the netpoll marker and the right base class', () => {
    const cases: Array<[Error, string, ErrorConstructor | TypeErrorConstructor]> = [
      [new InvalidArgumentError('n', 'an integer', 1.5), 'ERR_NETPOLL_INVALID_ARG', TypeError],
      [new OutOfRangeError('n', 'at least 0', -1), 'ERR_NETPOLL_OUT_OF_RANGE', RangeError],
      [new ClosedError('next'), 'ERR_NETPOLL_CLOSED', Error],
      [new NotEnoughDataError('next(2)', 2, 1), 'ERR_NETPOLL_LINKBUFFER_NOT_ENOUGH', Error],
      [new DelimiterNotFoundError(10, 4), 'ERR_NETPOLL_LINKBUFFER_DELIMITER_NOT_FOUND', Error],
      [new ReadOnlyError('malloc'), 'ERR_NETPOLL_LINKBUFFER_READ_ONLY', Error],
    ];
    for (const [error, code, base] of cases) {
      expect(error).toBeInstanceOf(base);
      expect((error as Error & { code: string }).code).toBe(code);
      expect(isNetpollError(error)).toBe(true);
      expect((error as unknown as Record<symbol, unknown>)[Symbol.for('netpoll.error')]).toBe(true);
    }
  });

  it('argument messages follow "<path> must be <expected> (received <value>)"', () => {
    expect(new InvalidArgumentError('options.nodeSize', 'an integer', '4k').message).toBe(
      'options.nodeSize must be an integer (received "4k")',
    );
    expect(new OutOfRangeError('n', 'at least 0', -1).message).toBe(
      'n must be at least 0 (received -1)',
    );
  });

  it('isNetpollError is false for plain errors and non-objects', () => {
    expect(isNetpollError(new Error('x'))).toBe(false);
    expect(isNetpollError(null)).toBe(false);
    expect(isNetpollError('ERR_NETPOLL_CLOSED')).toBe(false);
    expect(isNetpollError({ [Symbol.for('netpoll.error')]: true })).toBe(true);
  });

  it('describe() names received values briefly', () => {
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue(null)).toBe('null');
    expect(describeValue([1])).toBe('an array');
    expect(describeValue(() => 1)).toBe('a function');
    expect(describeValue(new Map())).toBe('an instance of Map');
    expect(describeValue(Object.create(null))).toBe('an object');
    expect(describeValue({})).toBe('an object');
    expect(describeValue(-0)).toBe('-0');
    expect(describeValue(12n)).toBe('12n');
    expect(describeValue('x'.repeat(40))).toBe(`"${'x'.repeat(32)}…"`);
    expect(describeValue(Symbol('s'))).toBe('Symbol(s)');
  });
});
