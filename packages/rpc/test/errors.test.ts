import { join } from 'node:path';
import { readmeErrorCodes } from '@netpoll/jest-config';
import {
  InvalidArgumentError,
  isNetpollError,
  kRpcErrorCodes,
  OutOfRangeError,
  RpcError,
  RpcStatus,
} from '../src';

describe('errors', () => {
  it('every code in src/errors.ts is in the README Errors table and vice versa', () => {
    expect(readmeErrorCodes(join(__dirname, '..')).sort()).toEqual([...kRpcErrorCodes].sort());
  });

  it('errors carry their code, the netpoll marker and processed', () => {
    const error = new RpcError('ERR_NETPOLL_RPC_REMOTE', 'failed', {
      remoteCode: 'NOT_FOUND',
      remoteMessage: 'no such key',
      processed: true,
    });
    expect(isNetpollError(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'ERR_NETPOLL_RPC_REMOTE',
      name: 'RpcError',
      remoteCode: 'NOT_FOUND',
      remoteMessage: 'no such key',
      processed: true,
    });
    expect(new RpcError('ERR_NETPOLL_RPC_CANCELED', 'x').name).toBe('AbortError');
    expect(new RpcError('ERR_NETPOLL_RPC_UNAVAILABLE', 'x', { processed: false }).processed).toBe(
      false,
    );
    expect(new InvalidArgumentError('a', 'b', 1)).toBeInstanceOf(TypeError);
    expect(new OutOfRangeError('a', 'b', 1)).toBeInstanceOf(RangeError);
    expect(isNetpollError(new Error('plain'))).toBe(false);
  });

  it('RpcStatus takes 1 to 255 printable ASCII characters as its code', () => {
    expect(new RpcStatus('NOT_FOUND', 'gone')).toMatchObject({
      status: 'NOT_FOUND',
      message: 'gone',
    });
    for (const bad of ['', 'with space', 'ü', 'x'.repeat(256)]) {
      expect(() => new RpcStatus(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_NETPOLL_INVALID_ARG' }),
      );
    }
  });
});
