import { LinkBuffer } from '../src/link-buffer';
import { kMcacheNodeAllocator } from '../src/node-allocator';
import {
  checkKnownKeys,
  kDefaultLinkBufferOptions,
  resolveLinkBufferOptions,
} from '../src/options';
import { CountingAllocator } from './helpers/counting-allocator';

function expectCode(
  run: () => unknown,
  code: string,
  base: ErrorConstructor | TypeErrorConstructor,
) {
  expect(run).toThrow(base);
  expect(run).toThrow(expect.objectContaining({ code }));
}

describe('LinkBuffer options', () => {
  const savedDebug = process.env.NETPOLL_DEBUG;
  afterEach(() => {
    if (savedDebug === undefined) delete process.env.NETPOLL_DEBUG;
    else process.env.NETPOLL_DEBUG = savedDebug;
  });

  it('defaults to the mcache allocator, 4096-byte nodes and debug off', () => {
    delete process.env.NETPOLL_DEBUG;
    const buffer = new LinkBuffer();
    expect(buffer.options).toEqual({
      allocator: kMcacheNodeAllocator,
      nodeSize: 4096,
      debug: false,
    });
    expect(Object.isFrozen(buffer.options)).toBe(true);
    expect(Object.isFrozen(kDefaultLinkBufferOptions)).toBe(true);
  });

  it('turns debug on when NETPOLL_DEBUG=1 and debug is not given', () => {
    process.env.NETPOLL_DEBUG = '1';
    expect(new LinkBuffer().options.debug).toBe(true);
    expect(new LinkBuffer({ debug: false }).options.debug).toBe(false);
  });

  it('keeps no reference to the input object and reuses resolved options as they are', () => {
    const input = { nodeSize: 64 };
    const resolved = resolveLinkBufferOptions(input);
    input.nodeSize = 1;
    expect(resolved.nodeSize).toBe(64);
    expect(resolveLinkBufferOptions(resolved)).toBe(resolved);
    expect(new LinkBuffer(resolved).options).toBe(resolved);
  });

  it('accepts a custom allocator', () => {
    const allocator = new CountingAllocator();
    const buffer = new LinkBuffer({ allocator, nodeSize: 10 });
    buffer.malloc(3);
    expect(allocator.requests).toEqual([10]);
  });

  it('rejects options that are not a plain object', () => {
    expectCode(() => new LinkBuffer(5 as never), 'ERR_NETPOLL_INVALID_ARG', TypeError);
    expectCode(() => new LinkBuffer(new Map() as never), 'ERR_NETPOLL_INVALID_ARG', TypeError);
  });

  it('rejects options.allocator that is not an object', () => {
    expectCode(
      () => new LinkBuffer({ allocator: 'mcache' as never }),
      'ERR_NETPOLL_INVALID_ARG',
      TypeError,
    );
  });

  it('rejects options.allocator without an allocate function', () => {
    const allocator = { free() {} } as never;
    expectCode(() => new LinkBuffer({ allocator }), 'ERR_NETPOLL_INVALID_ARG', TypeError);
  });

  it('rejects options.allocator without a free function', () => {
    const allocator = { allocate: (size: number) => Buffer.alloc(size) } as never;
    expectCode(() => new LinkBuffer({ allocator }), 'ERR_NETPOLL_INVALID_ARG', TypeError);
  });

  it('rejects options.nodeSize that is not an integer', () => {
    expectCode(() => new LinkBuffer({ nodeSize: 1.5 }), 'ERR_NETPOLL_INVALID_ARG', TypeError);
    expectCode(
      () => new LinkBuffer({ nodeSize: '4096' as never }),
      'ERR_NETPOLL_INVALID_ARG',
      TypeError,
    );
  });

  it('rejects options.nodeSize below 1', () => {
    expectCode(() => new LinkBuffer({ nodeSize: 0 }), 'ERR_NETPOLL_OUT_OF_RANGE', RangeError);
  });

  it('rejects options.nodeSize above 8 MiB', () => {
    expectCode(
      () => new LinkBuffer({ nodeSize: 8 * 1024 * 1024 + 1 }),
      'ERR_NETPOLL_OUT_OF_RANGE',
      RangeError,
    );
  });

  it('rejects options.debug that is not a boolean', () => {
    expectCode(() => new LinkBuffer({ debug: 1 as never }), 'ERR_NETPOLL_INVALID_ARG', TypeError);
  });

  it('rejects an unknown option key and suggests the known one it was probably meant to be', () => {
    const cases: Array<[object, string]> = [
      [{ nodeSzie: 1 }, 'options.nodeSzie is not a known option (did you mean nodeSize?)'],
      [{ NODESIZE: 64 }, 'options.NODESIZE is not a known option (did you mean nodeSize?)'],
      [{ debgu: true }, 'options.debgu is not a known option (did you mean debug?)'],
      [{ alocator: {} }, 'options.alocator is not a known option (did you mean allocator?)'],
      [{ nodeSize: 64, timeout: 5 }, 'options.timeout is not a known option'],
      [{ nodeSzie: undefined }, 'options.nodeSzie is not a known option (did you mean nodeSize?)'],
    ];
    for (const [input, message] of cases) {
      expectCode(() => new LinkBuffer(input as never), 'ERR_NETPOLL_INVALID_ARG', TypeError);
      expect(() => new LinkBuffer(input as never)).toThrow(new TypeError(message));
    }
    // Known keys, a spread of resolved options, and symbol keys pass.
    const buffer = new LinkBuffer({ nodeSize: 64, debug: false });
    expect(new LinkBuffer({ ...buffer.options }).options.nodeSize).toBe(64);
    expect(new LinkBuffer({ [Symbol('tag')]: 1 } as never).options.nodeSize).toBe(4096);
  });

  it('checkKnownKeys suggests the closest key within max(2, ⌊length / 3⌋) edits, or none', () => {
    const messageOf = (input: object, known: readonly string[]): string => {
      try {
        checkKnownKeys(input, known, 'options.framing');
      } catch (error) {
        expect(error).toBeInstanceOf(TypeError);
        expect(error).toMatchObject({ code: 'ERR_NETPOLL_INVALID_ARG' });
        return (error as Error).message;
      }
      return 'accepted';
    };
    const known = ['lengthHeader', 'maxFrameSize'] as const;
    expect(messageOf({ lengthHeader: 4, maxFrameSize: 1 }, known)).toBe('accepted');
    expect(messageOf({ maxFrameSz: 1 }, known)).toBe(
      'options.framing.maxFrameSz is not a known option (did you mean maxFrameSize?)',
    );
    // 12 characters allow 4 edits; 5 are too many.
    expect(messageOf({ lengthHXXXXr: 1 }, known)).toBe(
      'options.framing.lengthHXXXXr is not a known option (did you mean lengthHeader?)',
    );
    expect(messageOf({ lengthXXXXXr: 1 }, known)).toBe(
      'options.framing.lengthXXXXXr is not a known option',
    );
    // Short keys still allow 2 edits, not 3.
    expect(messageOf({ ab: 1 }, ['abcd'])).toBe(
      'options.framing.ab is not a known option (did you mean abcd?)',
    );
    expect(messageOf({ a: 1 }, ['abcd'])).toBe('options.framing.a is not a known option');
    // The closest wins whatever the order; a case-only difference beats any edit.
    expect(messageOf({ nodeSiz: 1 }, ['nodeSizes', 'nodeSize'])).toBe(
      'options.framing.nodeSiz is not a known option (did you mean nodeSize?)',
    );
    expect(messageOf({ Debugs: 1 }, ['debug', 'DEBUGS'])).toBe(
      'options.framing.Debugs is not a known option (did you mean DEBUGS?)',
    );
  });

  it('reports an allocator that returns too few bytes when it is used', () => {
    const allocator = { allocate: () => Buffer.alloc(1), free() {} };
    const buffer = new LinkBuffer({ allocator });
    expect(() => buffer.malloc(10)).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_INVALID_ARG' }),
    );
  });
});
