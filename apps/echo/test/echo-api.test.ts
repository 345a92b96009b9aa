import { RpcStatus } from '@netpoll/rpc';
import { isEchoMethod, kEchoMethods, kMaxSleepMs, kRequestParsers } from '../src/service/echo-api';

function refusal(method: keyof typeof kRequestParsers, value: unknown): RpcStatus {
  try {
    kRequestParsers[method](value);
  } catch (error) {
    return error as RpcStatus;
  }
  throw new Error(`${method} accepted ${JSON.stringify(value)}`);
}

describe('the Echo API request checks', () => {
  it('accept well-formed requests and fill defaults', () => {
    expect(kRequestParsers.echo({ message: 'hi' })).toEqual({ message: 'hi' });
    expect(kRequestParsers.echo({ message: '' })).toEqual({ message: '' });
    expect(kRequestParsers.hash({ data: 'x' })).toEqual({ data: 'x', rounds: 1 });
    expect(kRequestParsers.hash({ data: 'x', rounds: 5 })).toEqual({ data: 'x', rounds: 5 });
    expect(kRequestParsers.sleep({ ms: 0 })).toEqual({ ms: 0 });
    expect(kRequestParsers.sleep({ ms: kMaxSleepMs })).toEqual({ ms: kMaxSleepMs });
    expect(kRequestParsers.health({})).toEqual({});
    expect(kRequestParsers.health(null)).toEqual({});
  });

  it.each([
    ['echo', [], 'echo: the request must be a JSON object'],
    ['echo', 'hi', 'echo: the request must be a JSON object'],
    ['echo', {}, 'echo: message must be a string of at most 1048576 characters'],
    ['echo', { message: 1 }, 'echo: message must be a string of at most 1048576 characters'],
    ['echo', { message: 'x', extra: 1 }, 'echo: unknown field "extra" (fields: message)'],
    [
      'hash',
      { data: 'x', rounds: 0 },
      'hash: rounds must be an integer from 1 to 1000000 (received 0)',
    ],
    [
      'hash',
      { data: 'x', rounds: 1.5 },
      'hash: rounds must be an integer from 1 to 1000000 (received 1.5)',
    ],
    ['hash', { rounds: 2 }, 'hash: data must be a string of at most 1048576 characters'],
    ['sleep', { ms: -1 }, 'sleep: ms must be an integer from 0 to 60000 (received -1)'],
    ['sleep', { ms: '5' }, 'sleep: ms must be an integer from 0 to 60000 (received "5")'],
    ['sleep', { ms: 60_001 }, 'sleep: ms must be an integer from 0 to 60000 (received 60001)'],
    ['health', { verbose: true }, 'health: unknown field "verbose" (fields: none)'],
  ] as const)('refuse %s %j with INVALID_ARGUMENT naming the field', (method, value, message) => {
    const error = refusal(method, value);
    expect(error).toBeInstanceOf(RpcStatus);
    expect(error.status).toBe('INVALID_ARGUMENT');
    expect(error.message).toBe(message);
  });

  it('lists its methods, one parser each', () => {
    expect(kEchoMethods).toEqual(Object.keys(kRequestParsers));
    for (const method of kEchoMethods) expect(isEchoMethod(method)).toBe(true);
    expect(isEchoMethod('toString')).toBe(false);
    expect(isEchoMethod('')).toBe(false);
  });
});
