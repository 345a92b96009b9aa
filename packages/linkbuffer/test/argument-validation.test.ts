/**
 * Every public entry point refuses a bad argument with a coded error, and leaves the buffer as it
 * was: `ERR_NETPOLL_INVALID_ARG` (a `TypeError`) for the wrong type, a BigInt, a Symbol, NaN,
 * ±Infinity, a fraction or an integer beyond 2^53 - 1; `ERR_NETPOLL_OUT_OF_RANGE` (a `RangeError`)
 * for an integer outside the argument's range.
 */
import { InvalidArgumentError, isNetpollError, OutOfRangeError } from '../src/errors';
import { LinkBuffer } from '../src/link-buffer';
import { put, text } from './helpers/fill';

/** Values that are not integers at all, or not safe ones. */
const notIntegers: readonly unknown[] = [
  1n,
  Symbol('n'),
  Number.NaN,
  2 ** 53,
  Number.POSITIVE_INFINITY,
  1.5,
  '1',
  null,
  {},
];

function codeOf(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return isNetpollError(error) ? error.code : `uncoded ${String(error)}`;
  }
  return 'no error';
}

/** A buffer with 'abcdef' readable and 'gh' reserved, and a check that neither changed. */
function filled(): { buffer: LinkBuffer; unchanged(): void } {
  const buffer = new LinkBuffer();
  put(buffer, 'abcdef');
  buffer.malloc(2).write('gh', 'latin1');
  return {
    buffer,
    unchanged() {
      expect(buffer.len()).toBe(6);
      expect(buffer.mallocLen()).toBe(2);
      buffer.flush();
      expect(text(buffer.bytes())).toBe('abcdefgh');
    },
  };
}

describe('argument validation', () => {
  const sizeCalls: Record<string, (buffer: LinkBuffer, value: number) => unknown> = {
    next: (buffer, n) => buffer.next(n),
    peek: (buffer, n) => buffer.peek(n),
    skip: (buffer, n) => buffer.skip(n),
    readString: (buffer, n) => buffer.readString(n),
    readBinary: (buffer, n) => buffer.readBinary(n),
    slice: (buffer, n) => buffer.slice(n),
    malloc: (buffer, n) => buffer.malloc(n),
    reserve: (buffer, n) => buffer.reserve(n),
    mallocAck: (buffer, n) => buffer.mallocAck(n),
    'writeFrom(source, n)': (buffer, n) => new LinkBuffer().writeFrom(buffer, n),
    'writeDirect(data, remainCap)': (buffer, n) => buffer.writeDirect(Buffer.from('x'), n),
    'peekUint16BE(offset)': (buffer, n) => buffer.peekUint16BE(n),
    'peekUint32BE(offset)': (buffer, n) => buffer.peekUint32BE(n),
    'peekBigUint64BE(offset)': (buffer, n) => buffer.peekBigUint64BE(n),
    'indexByte(byte, skip)': (buffer, n) => buffer.indexByte(0x61, n),
    'getBytes(maxChunks)': (buffer, n) => buffer.getBytes(n),
    'forEachChunk(visitor, maxChunks)': (buffer, n) => buffer.forEachChunk(() => {}, n),
    'appendRegion(buffer, start)': (buffer, n) =>
      buffer.appendRegion(Buffer.alloc(8), n, 4, { releaseRegion() {} }, 1),
    'appendRegion(buffer, start, end)': (buffer, n) =>
      buffer.appendRegion(Buffer.alloc(8), 0, n, { releaseRegion() {} }, 1),
  };

  for (const [name, call] of Object.entries(sizeCalls)) {
    it(`${name} refuses BigInt, Symbol, NaN, 2^53, Infinity, fractions and non-numbers with INVALID_ARG`, () => {
      const { buffer, unchanged } = filled();
      // maxChunks takes Infinity (all chunks) as well as integers.
      const values = name.includes('maxChunks')
        ? notIntegers.filter((value) => value !== Number.POSITIVE_INFINITY)
        : notIntegers;
      for (const value of values) {
        expect({ value, code: codeOf(() => call(buffer, value as number)) }).toEqual({
          value,
          code: 'ERR_NETPOLL_INVALID_ARG',
        });
      }
      expect(() => call(buffer, 1n as never)).toThrow(InvalidArgumentError);
      expect(() => call(buffer, 1n as never)).toThrow(TypeError);
      unchanged();
    });
  }

  it('a negative size, count or offset is OUT_OF_RANGE (netpoll treats a negative size as 0)', () => {
    for (const [name, call] of Object.entries(sizeCalls)) {
      const { buffer, unchanged } = filled();
      for (const value of [-1, -(2 ** 53 - 1)]) {
        expect({ name, value, code: codeOf(() => call(buffer, value)) }).toEqual({
          name,
          value,
          code: 'ERR_NETPOLL_OUT_OF_RANGE',
        });
      }
      expect(() => call(buffer, -1)).toThrow(RangeError);
      unchanged();
    }
  });

  it('a byte to write, find or cut at must be an integer from 0 to 255', () => {
    const byteCalls: Record<string, (buffer: LinkBuffer, value: number) => unknown> = {
      writeByte: (buffer, byte) => buffer.writeByte(byte),
      indexByte: (buffer, byte) => buffer.indexByte(byte),
      until: (buffer, byte) => buffer.until(byte),
    };
    for (const [name, call] of Object.entries(byteCalls)) {
      const { buffer, unchanged } = filled();
      for (const value of [256, -1, 2 ** 32]) {
        expect({ name, value, code: codeOf(() => call(buffer, value)) }).toEqual({
          name,
          value,
          code: 'ERR_NETPOLL_OUT_OF_RANGE',
        });
      }
      expect(() => call(buffer, 256)).toThrow(OutOfRangeError);
      expect(() => call(buffer, 256)).toThrow(RangeError);
      for (const value of [...notIntegers, '7', 0.5]) {
        expect({ name, value, code: codeOf(() => call(buffer, value as number)) }).toEqual({
          name,
          value,
          code: 'ERR_NETPOLL_INVALID_ARG',
        });
      }
      unchanged();
    }
    expect(() => new LinkBuffer().writeByte(256)).toThrow(
      'byte must be an integer from 0 to 255 (received 256)',
    );
    const buffer = new LinkBuffer();
    buffer.writeByte(0);
    buffer.writeByte(255);
    buffer.flush();
    expect([...buffer.bytes()]).toEqual([0, 255]);
  });

  it('a negative maxChunks is OUT_OF_RANGE; 0 visits nothing and Infinity everything', () => {
    const { buffer, unchanged } = filled();
    expect(codeOf(() => buffer.getBytes(-1))).toBe('ERR_NETPOLL_OUT_OF_RANGE');
    expect(codeOf(() => buffer.forEachChunk(() => {}, -1))).toBe('ERR_NETPOLL_OUT_OF_RANGE');
    expect(buffer.getBytes(0)).toEqual([]);
    expect(buffer.forEachChunk(() => {}, 0)).toBe(0);
    expect(buffer.forEachChunk(() => {}, Number.POSITIVE_INFINITY)).toBe(1);
    unchanged();
  });

  it('forEachChunk and forEachNewChunk refuse a visitor that is not a function', () => {
    const { buffer, unchanged } = filled();
    for (const visitor of [undefined, null, 1, 'visit', {}, 1n]) {
      expect(codeOf(() => buffer.forEachChunk(visitor as never))).toBe('ERR_NETPOLL_INVALID_ARG');
      expect(codeOf(() => buffer.forEachNewChunk(visitor as never))).toBe(
        'ERR_NETPOLL_INVALID_ARG',
      );
    }
    expect(() => buffer.forEachChunk(null as never)).toThrow(
      'visitor must be a function (received null)',
    );
    unchanged();
  });

  it('appendRegion refuses a token that is not a number and takes no region', () => {
    const { buffer, unchanged } = filled();
    const released: unknown[] = [];
    const owner = { releaseRegion: (token: number) => released.push(token) };
    for (const token of ['1', 1n, null, undefined, {}]) {
      expect(codeOf(() => buffer.appendRegion(Buffer.alloc(4), 0, 4, owner, token as never))).toBe(
        'ERR_NETPOLL_INVALID_ARG',
      );
    }
    expect(released).toEqual([]);
    buffer.appendRegion(Buffer.alloc(4), 0, 0, owner, -1.5); // any number is handed back as is
    expect(released).toEqual([-1.5]);
    unchanged();
  });
});
