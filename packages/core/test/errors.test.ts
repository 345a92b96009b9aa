import { join } from 'node:path';
import { readmeErrorCodes } from '@netpoll/jest-config';
import {
  connectionClosedError,
  describe as describeValue,
  dialTimeoutError,
  eofError,
  frameTooLargeError,
  handlerFailedError,
  handlerLoadError,
  InvalidArgumentError,
  isNetpollError,
  kCoreErrorCodes,
  NetpollError,
  OutOfRangeError,
  reactorCrashedError,
  readTimeoutError,
  reusePortRequiredError,
  writeTimeoutError,
} from '../src/errors';
import { NetpollSystemError, systemError } from '../src/system-error';

describe('errors', () => {
  it('every code in src/errors.ts is in the README Errors table and vice versa', () => {
    expect([...readmeErrorCodes(join(__dirname, '..'))].sort()).toEqual(
      [...kCoreErrorCodes].sort(),
    );
  });

  it('every error carries its code, the netpoll marker and the right base class', () => {
    const cases: Array<[Error, string, ErrorConstructor]> = [
      [new InvalidArgumentError('n', 'an integer', 1.5), 'ERR_NETPOLL_INVALID_ARG', TypeError],
      [new OutOfRangeError('n', 'at least 0', -1), 'ERR_NETPOLL_OUT_OF_RANGE', RangeError],
      [connectionClosedError('when flush'), 'ERR_NETPOLL_CONN_CLOSED', Error],
      [eofError(), 'ERR_NETPOLL_EOF', Error],
      [readTimeoutError('1.2.3.4:5'), 'ERR_NETPOLL_READ_TIMEOUT', Error],
      [writeTimeoutError('1.2.3.4:5'), 'ERR_NETPOLL_WRITE_TIMEOUT', Error],
      [dialTimeoutError('h:1', 5), 'ERR_NETPOLL_DIAL_TIMEOUT', Error],
      [frameTooLargeError(10, 5), 'ERR_NETPOLL_FRAME_TOO_LARGE', Error],
      [handlerFailedError('onRequest', 'x'), 'ERR_NETPOLL_HANDLER_FAILED', Error],
      [new NetpollError('ERR_NETPOLL_CLOSED', 'closed'), 'ERR_NETPOLL_CLOSED', Error],
      [handlerLoadError('/a/h.js', 'failed'), 'ERR_NETPOLL_HANDLER_LOAD', Error],
      [reactorCrashedError(1, 'exit'), 'ERR_NETPOLL_REACTOR_CRASHED', Error],
      [reusePortRequiredError('127.0.0.1:1', 2), 'ERR_NETPOLL_REUSE_PORT_REQUIRED', Error],
    ];
    for (const [error, code, base] of cases) {
      expect(error).toBeInstanceOf(base);
      expect((error as Error & { code: string }).code).toBe(code);
      expect(isNetpollError(error)).toBe(true);
    }
  });

  it('timeouts expose timeout: true; other errors do not', () => {
    expect(readTimeoutError('a').timeout).toBe(true);
    expect(writeTimeoutError('a').timeout).toBe(true);
    expect(dialTimeoutError('a', 1).timeout).toBe(true);
    expect((eofError() as unknown as { timeout?: boolean }).timeout).toBeUndefined();
  });

  it('messages follow netpoll texts', () => {
    expect(readTimeoutError('127.0.0.1:9').message).toBe('connection read timeout 127.0.0.1:9');
    expect(writeTimeoutError('127.0.0.1:9').message).toBe('connection write timeout 127.0.0.1:9');
    expect(eofError().message).toBe('EOF wait read');
    expect(connectionClosedError('when flush').message).toBe(
      'connection has been closed when flush',
    );
    expect(new InvalidArgumentError('options.readTimeout', 'an integer', '5').message).toBe(
      'options.readTimeout must be an integer (received "5")',
    );
  });

  it('a non-Error handler failure keeps the thrown value as cause', () => {
    expect(handlerFailedError('onConnect', 42).cause).toBe(42);
  });

  it('system errors look like Node errors: code, negative errno, syscall', () => {
    const error = systemError(-111, 'connect', '127.0.0.1:1');
    expect(error).toBeInstanceOf(NetpollSystemError);
    expect(error).toMatchObject({ code: 'ECONNREFUSED', errno: -111, syscall: 'connect' });
    expect(error.message).toBe('connect ECONNREFUSED 127.0.0.1:1');
    expect(isNetpollError(error)).toBe(true);
    expect(systemError(-999999, 'read').code).toMatch(/Unknown system error/);
  });

  it('isNetpollError is false for plain errors and non-objects', () => {
    expect(isNetpollError(new Error('x'))).toBe(false);
    expect(isNetpollError(null)).toBe(false);
    expect(isNetpollError('ERR_NETPOLL_CLOSED')).toBe(false);
  });

  it('describe() names received values briefly', () => {
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue(null)).toBe('null');
    expect(describeValue('x'.repeat(40))).toBe(`"${'x'.repeat(32)}…"`);
    expect(describeValue(() => 1)).toBe('a function');
    expect(describeValue([])).toBe('an array');
    expect(describeValue(new Map())).toBe('an instance of Map');
    expect(describeValue(Symbol('s'))).toBe('Symbol(s)');
  });
});
