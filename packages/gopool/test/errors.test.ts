import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readmeErrorCodes } from '@netpoll/jest-config';
import {
  InvalidArgumentError,
  isNetpollError,
  kNetpollErrorMarker,
  NetpollError,
  OutOfRangeError,
} from '../src';
import {
  AbortError,
  describe as describeValue,
  kRetiredErrorCodes,
  taskTimeoutError,
  workerExitedError,
} from '../src/errors';

const root = join(__dirname, '..');

function codesIn(text: string): Set<string> {
  return new Set(text.match(/ERR_NETPOLL_[A-Z_]+|ABORT_ERR/g) ?? []);
}

describe('errors', () => {
  it('documents every code of src/errors.ts in the README Errors table, and nothing else', () => {
    const source = codesIn(readFileSync(join(root, 'src', 'errors.ts'), 'utf8'));
    const rows = readmeErrorCodes(root);
    expect([...rows].sort()).toEqual([...source].sort());
  });

  it('lists retired codes in the README as retired, never to be reused', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(kRetiredErrorCodes).toEqual(['ERR_NETPOLL_ABORTED']);
    for (const code of kRetiredErrorCodes) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${code}\``));
      expect(row).toContain('retired; do not reuse');
    }
  });

  it("makes aborts look like Node's own AbortError, with the netpoll marker", () => {
    const error = new AbortError(undefined, { cause: 'why' });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'AbortError',
      code: 'ABORT_ERR',
      message: 'The operation was aborted',
      cause: 'why',
    });
    expect(Object.keys(error)).toEqual(['code', 'name']);
    expect(isNetpollError(error)).toBe(true);
    expect(String(error)).toBe('AbortError: The operation was aborted');
  });

  it('marks every error with a code and the cross-package marker', () => {
    const errors = [
      new InvalidArgumentError('x', 'a number', 'y'),
      new OutOfRangeError('x', 'positive', -1),
      new NetpollError('ERR_NETPOLL_CLOSED', 'closed'),
      new AbortError(),
    ];
    for (const error of errors) {
      expect(isNetpollError(error)).toBe(true);
      expect((error as unknown as Record<symbol, unknown>)[kNetpollErrorMarker]).toBe(true);
      expect(kNetpollErrorMarker).toBe(Symbol.for('netpoll.error'));
    }
    expect(isNetpollError(new Error('plain'))).toBe(false);
    expect(isNetpollError(null)).toBe(false);
    expect(isNetpollError({ code: 'ERR_NETPOLL_CLOSED' })).toBe(false);
    expect(isNetpollError({ code: 'X', [Symbol.for('netpoll.error')]: true })).toBe(true);
  });

  it('uses TypeError and RangeError for argument errors, with the house message format', () => {
    const invalid = new InvalidArgumentError('options.cap', 'a number', 'x');
    expect(invalid).toBeInstanceOf(TypeError);
    expect(invalid.code).toBe('ERR_NETPOLL_INVALID_ARG');
    expect(invalid.message).toBe('options.cap must be a number (received "x")');
    const range = new OutOfRangeError('options.cap', 'an integer ≥ 1', 0);
    expect(range).toBeInstanceOf(RangeError);
    expect(range.code).toBe('ERR_NETPOLL_OUT_OF_RANGE');
  });

  it('sets cause, timeout and exitCode where documented', () => {
    expect(new AbortError(undefined, { cause: 'reason' }).cause).toBe('reason');
    expect(taskTimeoutError(5)).toMatchObject({
      code: 'ERR_NETPOLL_GOPOOL_TASK_TIMEOUT',
      timeout: true,
    });
    expect(workerExitedError(1, 7)).toMatchObject({
      code: 'ERR_NETPOLL_GOPOOL_WORKER_EXITED',
      exitCode: 7,
    });
  });

  it('describes received values briefly', () => {
    expect(describeValue(null)).toBe('null');
    expect(describeValue('s')).toBe('"s"');
    expect(describeValue('z'.repeat(40))).toBe(`"${'z'.repeat(32)}…"`);
    expect(describeValue(3)).toBe('3');
    expect(describeValue(() => 1)).toBe('a function');
    expect(describeValue(new Map())).toBe('an instance of Map');
    expect(describeValue(Object.create(null))).toBe('an object');
    expect(describeValue(Symbol('q'))).toBe('Symbol(q)');
  });
});
