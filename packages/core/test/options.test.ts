import { pathToFileURL } from 'node:url';
import { InvalidArgumentError } from '../src/errors';
import {
  checkOnRequestArgument,
  kDefaultEventLoopOptions,
  resolveEventLoopOptions,
} from '../src/event-loop-options';
import {
  kDefaultDialOptions,
  kDefaultReactorOptions,
  resolveDialOptions,
  resolveFramingOptions,
  resolveListenerOptions,
  resolveReactorOptions,
  resolveShutdownOptions,
} from '../src/options';

function codeOf(call: () => unknown): string | undefined {
  try {
    call();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe('resolveEventLoopOptions', () => {
  it('returns frozen defaults for undefined and {}', () => {
    const resolved = resolveEventLoopOptions(undefined);
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(resolved).toEqual(kDefaultEventLoopOptions);
    expect(resolveEventLoopOptions({})).toEqual(kDefaultEventLoopOptions);
  });

  it('never keeps or mutates the caller object', () => {
    const input = { readTimeout: 5 };
    const resolved = resolveEventLoopOptions(input);
    expect(resolved).not.toBe(input);
    expect(input).toEqual({ readTimeout: 5 });
  });

  it('rejects a non-object options argument', () => {
    expect(codeOf(() => resolveEventLoopOptions(5))).toBe('ERR_NETPOLL_INVALID_ARG');
    expect(codeOf(() => resolveEventLoopOptions(new Map()))).toBe('ERR_NETPOLL_INVALID_ARG');
  });

  it.each(['readTimeout', 'writeTimeout', 'idleTimeout'])('rejects a non-integer %s', (name) => {
    expect(() => resolveEventLoopOptions({ [name]: 1.5 })).toThrow(
      `options.${name} must be an integer (received 1.5)`,
    );
  });

  it.each(['readTimeout', 'writeTimeout', 'idleTimeout'])('rejects a negative %s', (name) => {
    expect(codeOf(() => resolveEventLoopOptions({ [name]: -1 }))).toBe('ERR_NETPOLL_OUT_OF_RANGE');
  });

  it('rejects highWaterMark below 1', () => {
    expect(codeOf(() => resolveEventLoopOptions({ highWaterMark: 0 }))).toBe(
      'ERR_NETPOLL_OUT_OF_RANGE',
    );
  });

  it.each(['onPrepare', 'onConnect', 'onDisconnect', 'onError'])(
    'rejects a non-function %s and accepts null',
    (name) => {
      expect(() => resolveEventLoopOptions({ [name]: 'x' })).toThrow(
        `options.${name} must be a function (received "x")`,
      );
      expect(() => resolveEventLoopOptions({ [name]: null })).not.toThrow();
    },
  );

  it('keeps a given onError and defaults it otherwise', () => {
    const onError = (): void => {};
    expect(resolveEventLoopOptions({ onError }).onError).toBe(onError);
    expect(typeof resolveEventLoopOptions({}).onError).toBe('function');
  });
});

describe('resolveEventLoopOptions: reactors and handler', () => {
  const handler = '/srv/app/handler.js';

  it('defaults to one reactor in the calling thread (no handler)', () => {
    const resolved = resolveEventLoopOptions({});
    expect(resolved.reactors).toBe(1);
    expect(resolved.handler).toBeNull();
  });

  it('rejects a non-integer reactors', () => {
    expect(() => resolveEventLoopOptions({ reactors: 2.5, handler })).toThrow(
      'options.reactors must be an integer (received 2.5)',
    );
    expect(codeOf(() => resolveEventLoopOptions({ reactors: '2', handler }))).toBe(
      'ERR_NETPOLL_INVALID_ARG',
    );
  });

  it('rejects reactors outside 1 .. 256', () => {
    expect(codeOf(() => resolveEventLoopOptions({ reactors: 0, handler }))).toBe(
      'ERR_NETPOLL_OUT_OF_RANGE',
    );
    expect(() => resolveEventLoopOptions({ reactors: 257, handler })).toThrow(
      'options.reactors must be an integer from 1 to 256 (received 257)',
    );
    expect(resolveEventLoopOptions({ reactors: 256, handler }).reactors).toBe(256);
  });

  it('requires a handler module when reactors > 1', () => {
    expect(() => resolveEventLoopOptions({ reactors: 2 })).toThrow(
      'options.handler must be the handler module (absolute path or file: URL) when ' +
        'options.reactors > 1 (received undefined)',
    );
  });

  it('accepts an absolute path, a file: URL string and a file: URL object', () => {
    expect(resolveEventLoopOptions({ reactors: 2, handler }).handler).toBe(handler);
    const url = pathToFileURL(handler);
    expect(resolveEventLoopOptions({ handler: url.href }).handler).toBe(handler);
    expect(resolveEventLoopOptions({ handler: url }).handler).toBe(handler);
    // One reactor with a handler module runs one worker (same semantics as any N).
    expect(resolveEventLoopOptions({ reactors: 1, handler }).handler).toBe(handler);
  });

  it.each([
    ['a relative path', './handler.js'],
    ['a bare name', 'handler'],
    ['an http: URL', 'http://example.com/handler.js'],
    ['an http: URL object', new URL('http://example.com/handler.js')],
    ['a number', 5],
  ])('rejects %s as handler', (_name, value) => {
    expect(() => resolveEventLoopOptions({ handler: value })).toThrow(
      /^options\.handler must be an absolute path or a file: URL of the handler module/,
    );
    expect(codeOf(() => resolveEventLoopOptions({ handler: value }))).toBe(
      'ERR_NETPOLL_INVALID_ARG',
    );
  });

  it.each(['onPrepare', 'onConnect', 'onDisconnect', 'onError'])(
    'rejects a function %s when a handler module is set',
    (name) => {
      expect(() => resolveEventLoopOptions({ reactors: 3, handler, [name]: () => {} })).toThrow(
        `options.${name} must be exported by the handler module instead when options.handler ` +
          'is set (each reactor thread loads its own copy) (received a function)',
      );
    },
  );

  it('rejects a non-null onRequest argument when a handler module is set', () => {
    const withHandler = resolveEventLoopOptions({ reactors: 2, handler });
    expect(() => checkOnRequestArgument(() => {}, withHandler)).toThrow(
      'onRequest must be null when options.handler is set (export onRequest from the handler ' +
        'module instead) (received a function)',
    );
    expect(checkOnRequestArgument(null, withHandler)).toBeNull();
    expect(checkOnRequestArgument(undefined, withHandler)).toBeNull();
  });

  it('rejects a non-function onRequest argument without a handler module', () => {
    expect(codeOf(() => checkOnRequestArgument('x', resolveEventLoopOptions({})))).toBe(
      'ERR_NETPOLL_INVALID_ARG',
    );
    const onRequest = (): void => {};
    expect(checkOnRequestArgument(onRequest, resolveEventLoopOptions({}))).toBe(onRequest);
  });
});

describe('resolveFramingOptions', () => {
  it('null and undefined disable framing', () => {
    expect(resolveFramingOptions(null, 'options.framing')).toBeNull();
    expect(resolveFramingOptions(undefined, 'options.framing')).toBeNull();
  });

  it('defaults to a 4-byte header and 4 MiB', () => {
    expect(resolveFramingOptions({}, 'options.framing')).toEqual({
      lengthHeader: 4,
      maxFrameSize: 4 * 1024 * 1024,
    });
  });

  it('rejects a header size other than 1, 2 or 4', () => {
    expect(() => resolveFramingOptions({ lengthHeader: 3 }, 'options.framing')).toThrow(
      'options.framing.lengthHeader must be 1, 2 or 4 (received 3)',
    );
  });

  it('rejects maxFrameSize outside 1 .. 256 MiB and beyond what the header can express', () => {
    expect(codeOf(() => resolveFramingOptions({ maxFrameSize: 0 }, 'f'))).toBe(
      'ERR_NETPOLL_OUT_OF_RANGE',
    );
    expect(codeOf(() => resolveFramingOptions({ maxFrameSize: 2 ** 28 + 1 }, 'f'))).toBe(
      'ERR_NETPOLL_OUT_OF_RANGE',
    );
    expect(codeOf(() => resolveFramingOptions({ lengthHeader: 1, maxFrameSize: 256 }, 'f'))).toBe(
      'ERR_NETPOLL_OUT_OF_RANGE',
    );
    expect(resolveFramingOptions({ lengthHeader: 2 }, 'f')?.maxFrameSize).toBe(65535);
  });

  it('rejects a non-object framing', () => {
    expect(codeOf(() => resolveEventLoopOptions({ framing: 4 }))).toBe('ERR_NETPOLL_INVALID_ARG');
  });
});

describe('resolveDialOptions', () => {
  it('defaults timeout to 0 (no limit)', () => {
    expect(resolveDialOptions(undefined)).toEqual(kDefaultDialOptions);
  });

  it('rejects a negative or non-integer timeout', () => {
    expect(codeOf(() => resolveDialOptions({ timeout: -5 }))).toBe('ERR_NETPOLL_OUT_OF_RANGE');
    expect(codeOf(() => resolveDialOptions({ timeout: '1s' }))).toBe('ERR_NETPOLL_INVALID_ARG');
  });
});

describe('resolveListenerOptions', () => {
  it('defaults backlog to 511 and rejects 0', () => {
    expect(resolveListenerOptions(undefined).backlog).toBe(511);
    expect(codeOf(() => resolveListenerOptions({ backlog: 0 }))).toBe('ERR_NETPOLL_OUT_OF_RANGE');
  });

  it('defaults reusePort to false and rejects a non-boolean', () => {
    expect(resolveListenerOptions({}).reusePort).toBe(false);
    expect(() => resolveListenerOptions({ reusePort: 1 })).toThrow(
      'options.reusePort must be a boolean (received 1)',
    );
  });
});

describe('resolveShutdownOptions', () => {
  it('defaults timeout to 5000 and rejects a negative one', () => {
    expect(resolveShutdownOptions(undefined).timeout).toBe(5000);
    expect(codeOf(() => resolveShutdownOptions({ timeout: -1 }))).toBe('ERR_NETPOLL_OUT_OF_RANGE');
  });
});

describe('resolveReactorOptions', () => {
  it('defaults to 256 KiB slabs and a 128 MiB cap, frozen', () => {
    const resolved = resolveReactorOptions(undefined);
    expect(resolved).toEqual({ inboundSlabSize: 256 * 1024, maxInboundMemory: 128 * 1024 * 1024 });
    expect(resolved).toEqual(kDefaultReactorOptions);
    expect(Object.isFrozen(resolved)).toBe(true);
  });

  it('rejects inboundSlabSize outside 16 KiB .. 256 MiB or not an integer', () => {
    expect(resolveReactorOptions({ inboundSlabSize: 16384 }).inboundSlabSize).toBe(16384);
    expect(codeOf(() => resolveReactorOptions({ inboundSlabSize: 16383 }))).toBe(
      'ERR_NETPOLL_OUT_OF_RANGE',
    );
    expect(codeOf(() => resolveReactorOptions({ inboundSlabSize: 2 ** 28 + 1 }))).toBe(
      'ERR_NETPOLL_OUT_OF_RANGE',
    );
    expect(codeOf(() => resolveReactorOptions({ inboundSlabSize: 'big' }))).toBe(
      'ERR_NETPOLL_INVALID_ARG',
    );
  });

  it('rejects a negative or non-integer maxInboundMemory and accepts 0', () => {
    expect(resolveReactorOptions({ maxInboundMemory: 0 }).maxInboundMemory).toBe(0);
    expect(codeOf(() => resolveReactorOptions({ maxInboundMemory: -1 }))).toBe(
      'ERR_NETPOLL_OUT_OF_RANGE',
    );
    expect(codeOf(() => resolveReactorOptions({ maxInboundMemory: 1.5 }))).toBe(
      'ERR_NETPOLL_INVALID_ARG',
    );
  });

  it('rejects a non-object argument', () => {
    expect(codeOf(() => resolveReactorOptions(null))).toBe('ERR_NETPOLL_INVALID_ARG');
  });
});

/** The error a call throws (fails the test when it returns). */
function thrown(call: () => unknown): Error & { code?: string } {
  try {
    call();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a throw');
}

function expectUnknownKey(call: () => unknown, message: string): void {
  const error = thrown(call);
  expect(error).toBeInstanceOf(InvalidArgumentError);
  expect(error).toBeInstanceOf(TypeError);
  expect(error.code).toBe('ERR_NETPOLL_INVALID_ARG');
  expect(error.message).toBe(message);
  expect(error.stack?.split('\n')[0]).toBe(`InvalidArgumentError: ${message}`);
}

describe('unknown option keys', () => {
  it('resolveEventLoopOptions refuses a misspelt key and names the close one', () => {
    expectUnknownKey(
      () => resolveEventLoopOptions({ readTimout: 10 }),
      'options.readTimout is not a known option (did you mean readTimeout?)',
    );
  });

  it('resolveFramingOptions refuses a nested misspelt key by its full path', () => {
    expectUnknownKey(
      () => resolveEventLoopOptions({ framing: { lengthHeadr: 4 } }),
      'options.framing.lengthHeadr is not a known option (did you mean lengthHeader?)',
    );
    expectUnknownKey(
      () => resolveFramingOptions({ maxframesize: 10 }, 'options.framing'),
      'options.framing.maxframesize is not a known option (did you mean maxFrameSize?)',
    );
  });

  it('resolveDialOptions refuses a key of another options object, without a suggestion', () => {
    expectUnknownKey(
      () => resolveDialOptions({ backlog: 5 }),
      'options.backlog is not a known option',
    );
    expectUnknownKey(
      () => resolveDialOptions({ Timeout: 5 }),
      'options.Timeout is not a known option (did you mean timeout?)',
    );
  });

  it('resolveListenerOptions refuses an unknown key even when its value is undefined', () => {
    expectUnknownKey(
      () => resolveListenerOptions({ reuseport: undefined }),
      'options.reuseport is not a known option (did you mean reusePort?)',
    );
  });

  it('resolveReactorOptions refuses a misspelt key', () => {
    expectUnknownKey(
      () => resolveReactorOptions({ inboundSlabsize: 16384 }),
      'options.inboundSlabsize is not a known option (did you mean inboundSlabSize?)',
    );
  });

  it('resolveShutdownOptions refuses a misspelt key', () => {
    expectUnknownKey(
      () => resolveShutdownOptions({ timout: 100 }),
      'options.timout is not a known option (did you mean timeout?)',
    );
  });

  it('suggests the smallest distance within max(2, ⌊length / 3⌋), first listed on a tie', () => {
    // 'writeTimeOut': equal to writeTimeout ignoring case.
    expectUnknownKey(
      () => resolveEventLoopOptions({ writeTimeOut: 1 }),
      'options.writeTimeOut is not a known option (did you mean writeTimeout?)',
    );
    // 'idleTimeoutt' (12 characters, limit 4) is 1 edit from idleTimeout, 5 from readTimeout.
    expectUnknownKey(
      () => resolveEventLoopOptions({ idleTimeoutt: 1 }),
      'options.idleTimeoutt is not a known option (did you mean idleTimeout?)',
    );
    // 'onErr' (5 characters, limit 2) is 2 edits from onError: close; 'xyz' is close to nothing.
    expectUnknownKey(
      () => resolveEventLoopOptions({ onErr: () => {} }),
      'options.onErr is not a known option (did you mean onError?)',
    );
    expectUnknownKey(
      () => resolveEventLoopOptions({ xyz: 1 }),
      'options.xyz is not a known option',
    );
    // 'idealTimeout' (limit 4) is 3 edits from both readTimeout and idleTimeout: the first listed.
    expectUnknownKey(
      () => resolveEventLoopOptions({ idealTimeout: 1 }),
      'options.idealTimeout is not a known option (did you mean readTimeout?)',
    );
  });

  it('accepts the resolved options of a loop as input (how reactor workers build their loops)', () => {
    const resolved = resolveEventLoopOptions({
      readTimeout: 5,
      framing: { lengthHeader: 2 },
      reactors: 2,
      handler: '/srv/app/handler.js',
    });
    // reactor-worker.ts: new EventLoop(onRequest, { ...setup.options, onPrepare, … }).
    const forWorker = {
      readTimeout: resolved.readTimeout,
      writeTimeout: resolved.writeTimeout,
      idleTimeout: resolved.idleTimeout,
      framing: resolved.framing,
      highWaterMark: resolved.highWaterMark,
      onPrepare: null,
      onConnect: null,
      onDisconnect: null,
      onError: null,
    };
    expect(resolveEventLoopOptions(forWorker).framing).toEqual({
      lengthHeader: 2,
      maxFrameSize: 65535,
    });
    expect(resolveEventLoopOptions({ ...resolved, handler: null, reactors: 1 })).toMatchObject({
      readTimeout: 5,
    });
  });
});
