/**
 * The big-endian integer helpers for codecs: `peekUint16BE`/`peekUint32BE`/`peekBigUint64BE`,
 * `readUint16BE`/`readUint32BE`/`readBigUint64BE` and `writeUint16BE`/`writeUint32BE`/
 * `writeBigUint64BE` (extensions beyond netpoll). uint32.test.ts covers the 32-bit reads in depth.
 */
import { InvalidArgumentError, NotEnoughDataError, OutOfRangeError } from '../src/errors';
import { inspectLinkBuffer, LinkBuffer } from '../src/link-buffer';
import { CountingAllocator } from './helpers/counting-allocator';
import { chained, put, text } from './helpers/fill';

interface Width {
  readonly name: string;
  readonly bytes: readonly number[];
  readonly value: number | bigint;
  peek(buffer: LinkBuffer, offset?: number): number | bigint;
  read(buffer: LinkBuffer): number | bigint;
}

const widths: readonly Width[] = [
  {
    name: 'uint16',
    bytes: [0xfe, 0xdc],
    value: 0xfedc,
    peek: (buffer, offset) => buffer.peekUint16BE(offset),
    read: (buffer) => buffer.readUint16BE(),
  },
  {
    name: 'uint32',
    bytes: [0xfe, 0xdc, 0xba, 0x98],
    value: 0xfedcba98,
    peek: (buffer, offset) => buffer.peekUint32BE(offset),
    read: (buffer) => buffer.readUint32BE(),
  },
  {
    name: 'uint64 (high word of 2^21 and above)',
    bytes: [0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10],
    value: 0xfedcba9876543210n,
    peek: (buffer, offset) => buffer.peekBigUint64BE(offset),
    read: (buffer) => buffer.readBigUint64BE(),
  },
  {
    name: 'uint64 (below 2^53)',
    bytes: [0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe],
    value: 0x001ffffffffffffen,
    peek: (buffer, offset) => buffer.peekBigUint64BE(offset),
    read: (buffer) => buffer.readBigUint64BE(),
  },
];

/** Every way to cut `bytes` into `parts` non-empty pieces, in order. */
function cuts(bytes: readonly number[], parts: number): number[][][] {
  if (parts === 1) return [[[...bytes]]];
  const out: number[][][] = [];
  for (let first = 1; first <= bytes.length - parts + 1; first++) {
    for (const rest of cuts(bytes.slice(first), parts - 1)) {
      out.push([bytes.slice(0, first), ...rest]);
    }
  }
  return out;
}

function latin1(bytes: readonly number[]): string {
  return Buffer.from(bytes).toString('latin1');
}

function expectError(
  call: () => unknown,
  base: typeof InvalidArgumentError | typeof OutOfRangeError,
  code: string,
): void {
  expect(call).toThrow(base);
  expect(call).toThrow(expect.objectContaining({ code }));
}

describe('big-endian integer reads', () => {
  for (const width of widths) {
    it(`${width.name}: peek and read at every split across two and three nodes, allocating nothing`, () => {
      const splits = [...cuts(width.bytes, 2), ...cuts(width.bytes, 3)];
      expect(splits.length).toBeGreaterThan(0);
      for (const pieces of splits) {
        // 'a' is consumed (a used-up read node before the value), 'b' precedes it unconsumed.
        const { buffer, allocator } = chained(['a', 'b', ...pieces.map(latin1), 'z']);
        buffer.skip(1);
        const allocations = allocator.allocations;
        expect({ pieces, value: width.peek(buffer, 1) }).toEqual({ pieces, value: width.value });
        buffer.skip(1);
        expect(width.peek(buffer)).toBe(width.value);
        expect(buffer.len()).toBe(width.bytes.length + 1);
        expect(width.read(buffer)).toBe(width.value);
        expect(buffer.len()).toBe(1);
        expect(text(buffer.next(1))).toBe('z');
        expect(allocator.allocations).toBe(allocations);
        expect(inspectLinkBuffer(buffer).peekCacheSize).toBe(0);
      }
    });

    it(`${width.name}: inside one node, at an offset, and over an empty node`, () => {
      const single = new LinkBuffer();
      put(single, `xy${latin1(width.bytes)}`);
      expect(width.peek(single, 2)).toBe(width.value);
      single.skip(2);
      expect(width.peek(single)).toBe(width.value);
      expect(width.read(single)).toBe(width.value);
      expect(single.len()).toBe(0);

      const spaced = new LinkBuffer({ nodeSize: 1, allocator: new CountingAllocator() });
      put(spaced, latin1(width.bytes.slice(0, 1)));
      spaced.malloc(1).fill(0xaa);
      spaced.mallocAck(0); // leaves an empty spare node in the chain
      put(spaced, latin1(width.bytes.slice(1)));
      expect(width.read(spaced)).toBe(width.value);
    });

    it(`${width.name}: too few readable bytes throw NOT_ENOUGH and consume nothing`, () => {
      const size = width.bytes.length;
      const { buffer } = chained([latin1(width.bytes.slice(0, 1)), latin1(width.bytes.slice(1))]);
      buffer.malloc(4).fill(0); // reserved bytes do not count until flush()
      for (const call of [
        () => width.peek(buffer, 1),
        () => width.peek(buffer, 2 ** 31),
        () => width.read(new LinkBuffer()),
      ]) {
        expect(call).toThrow(NotEnoughDataError);
        expect(call).toThrow(
          expect.objectContaining({ code: 'ERR_NETPOLL_LINKBUFFER_NOT_ENOUGH' }),
        );
      }
      buffer.skip(1);
      expect(() => width.read(buffer)).toThrow(
        expect.objectContaining({ requested: size, available: size - 1 }),
      );
      expect(() => width.peek(buffer)).toThrow(
        expect.objectContaining({ requested: size, available: size - 1 }),
      );
      expect(buffer.len()).toBe(size - 1);
      buffer.close();
      expect(() => width.read(buffer)).toThrow(
        expect.objectContaining({ code: 'ERR_NETPOLL_CLOSED' }),
      );
    });

    it(`${width.name}: peek rejects an offset that is not an integer from 0 to 4294967295`, () => {
      const buffer = new LinkBuffer();
      put(buffer, latin1(width.bytes));
      for (const bad of [1.5, Number.NaN, '1', 1n, null, 2 ** 53]) {
        expectError(
          () => width.peek(buffer, bad as number),
          InvalidArgumentError,
          'ERR_NETPOLL_INVALID_ARG',
        );
      }
      for (const bad of [-1, 2 ** 32]) {
        expectError(() => width.peek(buffer, bad), OutOfRangeError, 'ERR_NETPOLL_OUT_OF_RANGE');
      }
      expect(buffer.len()).toBe(width.bytes.length);
    });
  }

  it('a read resets the peek cache like every consuming read; a peek leaves it alone', () => {
    const { buffer } = chained([latin1([0, 1]), latin1([2, 3, 4, 5, 6, 7, 8, 9])]);
    buffer.peek(5); // cross-node: fills the peek cache
    expect(buffer.peekUint16BE(1)).toBe(0x0102);
    expect(buffer.peekBigUint64BE(1)).toBe(0x0102030405060708n);
    expect(inspectLinkBuffer(buffer).peekLength).toBe(5);
    expect(buffer.readUint16BE()).toBe(0x0001);
    expect(inspectLinkBuffer(buffer).peekLength).toBe(0);
    expect(buffer.readBigUint64BE()).toBe(0x0203040506070809n);
  });
});

describe('big-endian integer writes', () => {
  it('store big-endian bytes in the reservation, readable after flush()', () => {
    const buffer = new LinkBuffer();
    buffer.writeUint16BE(0xfedc);
    buffer.writeUint32BE(0xfedcba98);
    buffer.writeBigUint64BE(0xfedcba9876543210n);
    buffer.writeUint16BE(0);
    buffer.writeUint32BE(4_294_967_295);
    buffer.writeBigUint64BE(2n ** 64n - 1n);
    buffer.writeBigUint64BE(2n ** 53n - 1n); // the largest value decoded through one double
    buffer.writeBigUint64BE(2n ** 53n + 1n); // the smallest odd value that is not
    expect(buffer.mallocLen()).toBe(44);
    expect(buffer.len()).toBe(0);
    buffer.flush();
    expect([...buffer.bytes()]).toEqual([
      ...[0xfe, 0xdc],
      ...[0xfe, 0xdc, 0xba, 0x98],
      ...[0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10],
      ...[0, 0],
      ...[0xff, 0xff, 0xff, 0xff],
      ...Array(8).fill(0xff),
      ...[0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
      ...[0, 0x20, 0, 0, 0, 0, 0, 1],
    ]);
    expect(buffer.readUint16BE()).toBe(0xfedc);
    expect(buffer.readUint32BE()).toBe(0xfedcba98);
    expect(buffer.readBigUint64BE()).toBe(0xfedcba9876543210n);
    expect(buffer.readUint16BE()).toBe(0);
    expect(buffer.readUint32BE()).toBe(4_294_967_295);
    expect(buffer.readBigUint64BE()).toBe(2n ** 64n - 1n);
    expect(buffer.peekBigUint64BE(8)).toBe(2n ** 53n + 1n);
    expect(buffer.readBigUint64BE()).toBe(2n ** 53n - 1n);
    expect(buffer.readBigUint64BE()).toBe(2n ** 53n + 1n);
  });

  it('keep each value contiguous: a value that does not fit the tail node goes to a new node', () => {
    const allocator = new CountingAllocator();
    const buffer = new LinkBuffer({ nodeSize: 6, allocator });
    buffer.writeUint32BE(0x01020304); // node 1: 4 of 6 bytes
    buffer.writeBigUint64BE(0x0506070809101112n); // 2 bytes left: a node of 8
    buffer.writeUint16BE(0x1314); // node 2 is full: a node of 6
    buffer.writeUint16BE(0x1516);
    buffer.flush();
    expect(allocator.requests).toEqual([6, 8, 6]);
    const chunks: number[][] = [];
    buffer.forEachChunk((memory, start, end) => {
      chunks.push([...memory.subarray(start, end)]);
    });
    expect(chunks).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8, 9, 0x10, 0x11, 0x12],
      [0x13, 0x14, 0x15, 0x16],
    ]);
  });

  it('reject values outside the range with OUT_OF_RANGE and other values with INVALID_ARG', () => {
    const buffer = new LinkBuffer();
    const outOfRange: Array<() => void> = [
      () => buffer.writeUint16BE(65536),
      () => buffer.writeUint16BE(-1),
      () => buffer.writeUint32BE(2 ** 32),
      () => buffer.writeUint32BE(-1),
      () => buffer.writeBigUint64BE(2n ** 64n),
      () => buffer.writeBigUint64BE(-1n),
    ];
    for (const call of outOfRange) expectError(call, OutOfRangeError, 'ERR_NETPOLL_OUT_OF_RANGE');
    const invalid: Array<() => void> = [
      () => buffer.writeUint16BE(1.5),
      () => buffer.writeUint16BE('7' as never),
      () => buffer.writeUint16BE(Number.NaN),
      () => buffer.writeUint16BE(1n as never),
      () => buffer.writeUint32BE(2 ** 53),
      () => buffer.writeUint32BE(Number.POSITIVE_INFINITY),
      () => buffer.writeUint32BE(Symbol('s') as never),
      () => buffer.writeBigUint64BE(1 as never),
      () => buffer.writeBigUint64BE('1' as never),
    ];
    for (const call of invalid) expectError(call, InvalidArgumentError, 'ERR_NETPOLL_INVALID_ARG');
    expect(buffer.mallocLen()).toBe(0);
    expect(() => buffer.writeUint16BE(65536)).toThrow(
      'value must be an integer from 0 to 65535 (received 65536)',
    );
    expect(() => buffer.writeBigUint64BE(-1n)).toThrow(
      'value must be a bigint from 0n to 18446744073709551615n (received -1n)',
    );
  });

  it('throw READ_ONLY on a slice and CLOSED after close()', () => {
    const source = new LinkBuffer();
    put(source, 'abcd');
    const slice = source.slice(2);
    const closed = new LinkBuffer();
    closed.close();
    for (const [buffer, code] of [
      [slice, 'ERR_NETPOLL_LINKBUFFER_READ_ONLY'],
      [closed, 'ERR_NETPOLL_CLOSED'],
    ] as const) {
      for (const call of [
        () => buffer.writeUint16BE(1),
        () => buffer.writeUint32BE(1),
        () => buffer.writeBigUint64BE(1n),
      ]) {
        expect(call).toThrow(expect.objectContaining({ code }));
      }
    }
    expect(text(slice.next(2))).toBe('ab');
  });
});
