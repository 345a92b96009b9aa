import { checkKnownKeys } from '../src/option-keys';

const known = ['maxThreads', 'minThreads', 'cap', 'name', 'timeout', 'idleTimeout'] as const;

function messageOf(input: object): string | undefined {
  try {
    checkKnownKeys(input, known, 'options');
  } catch (error) {
    expect((error as { code?: string }).code).toBe('ERR_NETPOLL_INVALID_ARG');
    expect(error).toBeInstanceOf(TypeError);
    return (error as Error).message;
  }
  return undefined;
}

describe('checkKnownKeys', () => {
  it('accepts known keys, inherited keys and symbol keys', () => {
    expect(messageOf({ maxThreads: 1, cap: 2 })).toBeUndefined();
    expect(messageOf(Object.create({ inherited: 1 }) as object)).toBeUndefined();
    expect(messageOf({ [Symbol('s')]: 1 })).toBeUndefined();
    expect(messageOf(Object.assign(Object.create(null) as object, { name: 'x' }))).toBeUndefined();
  });

  it('suggests the key that differs only in case, before any closer one', () => {
    expect(messageOf({ TIMEOUT: 1 })).toBe(
      'options.TIMEOUT is not a known option (did you mean timeout?)',
    );
    expect(messageOf({ Cap: 1 })).toBe('options.Cap is not a known option (did you mean cap?)');
  });

  it('suggests the key at the smallest Levenshtein distance', () => {
    expect(messageOf({ maxThread: 1 })).toBe(
      'options.maxThread is not a known option (did you mean maxThreads?)',
    );
    // One edit from minThreads, two from maxThreads (listed first).
    expect(messageOf({ minThread: 1 })).toBe(
      'options.minThread is not a known option (did you mean minThreads?)',
    );
    // One edit from each: the first in the list wins.
    expect(messageOf({ mixThreads: 1 })).toBe(
      'options.mixThreads is not a known option (did you mean maxThreads?)',
    );
    expect(messageOf({ idleTimout: 1 })).toBe(
      'options.idleTimout is not a known option (did you mean idleTimeout?)',
    );
  });

  it('allows max(2, ⌊length / 3⌋) edits and no more', () => {
    // "nm" is 2 edits from "name" (short keys still get 2).
    expect(messageOf({ nm: 1 })).toBe('options.nm is not a known option (did you mean name?)');
    // "tmeot" is 2 edits from "timeout": within max(2, 1).
    expect(messageOf({ tmeot: 1 })).toBe(
      'options.tmeot is not a known option (did you mean timeout?)',
    );
    // "maxThrd" is 3 edits from "maxThreads": beyond max(2, ⌊7 / 3⌋) = 2.
    expect(messageOf({ maxThrd: 1 })).toBe('options.maxThrd is not a known option');
    // "xaxThrxxds" is 3 edits from maxThreads: beyond 2, within ⌊10 / 3⌋ = 3.
    expect(messageOf({ xaxThrxxds: 1 })).toBe(
      'options.xaxThrxxds is not a known option (did you mean maxThreads?)',
    );
    expect(messageOf({ colour: 1 })).toBe('options.colour is not a known option');
  });

  it('names the full path of a nested options object', () => {
    try {
      checkKnownKeys({ stackSize: 4 }, ['stackSizeMb'], 'options.resourceLimits');
      throw new Error('expected a throw');
    } catch (error) {
      expect((error as Error).message).toBe(
        'options.resourceLimits.stackSize is not a known option (did you mean stackSizeMb?)',
      );
    }
  });
});
