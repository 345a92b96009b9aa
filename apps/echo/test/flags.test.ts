import { parseChoiceFlag, parseIntegerFlag, parseListFlag, wantsHelp } from '../src/flags';

describe('parseIntegerFlag', () => {
  it('accepts decimal integers within the range, bounds included', () => {
    expect(parseIntegerFlag('1', '--n', 1, 10)).toBe(1);
    expect(parseIntegerFlag('10', '--n', 1, 10)).toBe(10);
    expect(parseIntegerFlag('007', '--n', 0, 10)).toBe(7);
  });

  it.each(['abc', '', '-1', '1.5', '1e3', '0x10', ' 5', '5 ', '11', '0', '99999999999999999999'])(
    'rejects %j naming the flag, the range and the value',
    (text) => {
      expect(() => parseIntegerFlag(text, '--n', 1, 10)).toThrow(
        new RangeError(`--n must be an integer from 1 to 10 (received ${text})`),
      );
    },
  );
});

describe('parseChoiceFlag', () => {
  it('accepts a listed value and rejects others naming the choices', () => {
    expect(parseChoiceFlag('net', '--client', ['core', 'net'])).toBe('net');
    expect(() => parseChoiceFlag('uv', '--client', ['core', 'net'])).toThrow(
      '--client must be one of core, net (received uv)',
    );
  });
});

describe('parseListFlag', () => {
  const choices = ['core', 'net', 'net-batched'] as const;

  it('accepts comma-separated listed values in the given order', () => {
    expect(parseListFlag('net,core', '--impls', choices)).toEqual(['net', 'core']);
  });

  it.each(['', 'core,', 'core,uv', 'core,core', 'core net'])('rejects %j', (text) => {
    expect(() => parseListFlag(text, '--impls', choices)).toThrow(
      `--impls must be a comma-separated list of distinct values from core, net, net-batched (received ${text})`,
    );
  });
});

describe('wantsHelp', () => {
  it('finds --help or -h anywhere', () => {
    expect(wantsHelp(['serve', '--help'])).toBe(true);
    expect(wantsHelp(['-h'])).toBe(true);
    expect(wantsHelp(['serve', '--listen', 'unix:/s'])).toBe(false);
  });
});
