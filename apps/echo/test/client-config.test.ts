import { parseClientCommand, parseRequestWords } from '../src/client/client-config';
import { ConfigError } from '../src/config-error';
import { kEchoMethods } from '../src/service/echo-api';

function refusal(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseClientCommand(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${argv.join(' ')}`);
}

describe('parseRequestWords', () => {
  it('reads a JSON object, or KEY=VALUE words with JSON values where they parse', () => {
    expect(parseRequestWords([])).toEqual({});
    expect(parseRequestWords(['{"message":"hi"}'])).toEqual({ message: 'hi' });
    expect(parseRequestWords(['message=hi there', 'ms=100', 'flag=true', 'text="42"'])).toEqual({
      message: 'hi there',
      ms: 100,
      flag: true,
      text: '42',
    });
    expect(() => parseRequestWords(['{oops'])).toThrow('REQUEST is not valid JSON');
    expect(() => parseRequestWords(['=x'])).toThrow(
      'REQUEST words must be KEY=VALUE (received "=x")',
    );
  });
});

describe('parseClientCommand', () => {
  it('parses call with the address from the flag, the variable or the default', () => {
    expect(parseClientCommand(['call', 'echo', 'message=hi'], {})).toEqual({
      command: 'call',
      address: '127.0.0.1:7000',
      method: 'echo',
      request: { message: 'hi' },
      timeout: 5000,
    });
    expect(parseClientCommand(['call', 'health'], { ECHO_ADDRESS: '[::1]:7001' })).toMatchObject({
      address: '[::1]:7001',
      request: {},
    });
    expect(
      parseClientCommand(['call', 'sleep', 'ms=5', '--address', '10.0.0.1:1', '--timeout', '0'], {
        ECHO_ADDRESS: 'x:2',
      }),
    ).toMatchObject({ address: '10.0.0.1:1', timeout: 0, request: { ms: 5 } });
  });

  it('parses load with its defaults, and the request split at spaces', () => {
    expect(parseClientCommand(['load'], {})).toEqual({
      command: 'load',
      address: '127.0.0.1:7000',
      method: 'echo',
      request: { message: 'hello' },
      timeout: 5000,
      concurrency: 16,
      connections: 4,
      calls: 0,
      duration: 2000,
      json: false,
    });
    expect(
      parseClientCommand(
        ['load', '--method', 'hash', '--request', 'data=x rounds=20', '--calls', '10', '--json'],
        {},
      ),
    ).toMatchObject({
      method: 'hash',
      request: { data: 'x', rounds: 20 },
      calls: 10,
      duration: 0,
      json: true,
    });
    expect(
      parseClientCommand(['load', '--method', 'sleep', '--request', '{"ms": 3}'], {}),
    ).toMatchObject({
      request: { ms: 3 },
    });
  });

  it('refuses what it cannot send, naming why, before sending anything', () => {
    expect(refusal([])).toBe('expected the command call or load (received none)');
    expect(refusal(['call'])).toBe('call needs a METHOD');
    expect(refusal(['load', '--concurrency', '-1'])).toBe(
      '--concurrency must be an integer from 1 to 10000 (received "-1")',
    );
    expect(refusal(['call', 'nope'])).toBe(
      `METHOD must be one of ${kEchoMethods.join(', ')} (received "nope")`,
    );
    expect(refusal(['call', 'sleep', 'ms=-1'])).toBe(
      'bad request: sleep: ms must be an integer from 0 to 60000 (received -1)',
    );
    expect(refusal(['call', 'echo', '--calls', '3'])).toBe('--calls applies to load, not call');
    expect(refusal(['load', 'extra'])).toBe(
      'load takes no arguments (received extra); use --request',
    );
    expect(refusal(['load', '--concurrency', '0'])).toBe(
      '--concurrency must be an integer from 1 to 10000 (received "0")',
    );
    expect(refusal(['load', '--duration', '0'])).toBe('load needs --calls or --duration above 0');
    expect(refusal(['call', 'health', '--address', 'nope'])).toBe(
      '--address (ECHO_ADDRESS) must be HOST:PORT (received "nope")',
    );
    expect(refusal(['call', 'health', '--verbose'])).toContain("Unknown option '--verbose'");
  });
});
