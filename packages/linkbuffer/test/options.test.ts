import { LinkBuffer } from '../src/link-buffer';
import { kMcacheNodeAllocator } from '../src/node-allocator';
import { kDefaultLinkBufferOptions, resolveLinkBufferOptions } from '../src/options';
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

  it('reports an allocator that returns too few bytes when it is used', () => {
    const allocator = { allocate: () => Buffer.alloc(1), free() {} };
    const buffer = new LinkBuffer({ allocator });
    expect(() => buffer.malloc(10)).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_INVALID_ARG' }),
    );
  });
});
