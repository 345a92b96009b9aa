import { Decoder } from '../src/decoder';
import { Encoder } from '../src/encoder';

function roundTrip(value: unknown): unknown {
  const encoder = new Encoder();
  encoder.reset(0);
  encoder.value(value);
  const decoder = new Decoder(Buffer.from(encoder.buf.subarray(0, encoder.pos)));
  const decoded = decoder.value();
  expect(decoder.pos).toBe(encoder.pos);
  return decoded;
}

describe('codec', () => {
  it('encodes small integers in 5 bytes and other numbers in 9', () => {
    const encoder = new Encoder();
    encoder.value(7);
    expect(encoder.pos).toBe(5);
    encoder.reset(0);
    encoder.value(0.25);
    expect(encoder.pos).toBe(9);
    encoder.reset(0);
    encoder.value(-0);
    expect(encoder.pos).toBe(9);
  });

  it('round-trips primitives, including -0, NaN and large numbers', () => {
    for (const value of [
      0,
      -1,
      2 ** 31,
      -(2 ** 31),
      1e300,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      true,
      false,
      null,
      undefined,
    ]) {
      expect(Object.is(roundTrip(value), value)).toBe(true);
    }
    expect(Object.is(roundTrip(-0), -0)).toBe(true);
  });

  it('round-trips ASCII, non-ASCII, empty and long strings', () => {
    for (const value of [
      '',
      'a',
      'plain ascii',
      'ünïcödé',
      '✓ 𝄞 emoji 😀',
      'k'.repeat(5000),
      'é'.repeat(40),
    ]) {
      expect(roundTrip(value)).toBe(value);
    }
  });

  it('copies byte containers into fresh, non-shared memory of the same type', () => {
    const values = [
      Buffer.from('buf'),
      new Uint8Array([1, 2]),
      new Int8Array([-1]),
      new Uint8ClampedArray([300 & 0xff]),
      new Int16Array([-2]),
      new Uint16Array([65535]),
      new Int32Array([-3]),
      new Uint32Array([2 ** 32 - 1]),
      new Float32Array([0.5]),
      new Float64Array([1e-300]),
      new BigInt64Array([-5n]),
      new BigUint64Array([5n]),
    ];
    for (const value of values) {
      const decoded = roundTrip(value) as ArrayBufferView;
      expect(decoded.constructor).toBe(value.constructor);
      expect(decoded).toEqual(value);
      expect(decoded.buffer).toBeInstanceOf(ArrayBuffer);
    }
    const view = roundTrip(new DataView(new Uint8Array([1, 2, 3]).buffer, 1, 2)) as DataView;
    expect(view).toBeInstanceOf(DataView);
    expect([view.getUint8(0), view.getUint8(1)]).toEqual([2, 3]);
    expect(new Uint8Array(roundTrip(new Uint8Array([7]).buffer) as ArrayBuffer)).toEqual(
      new Uint8Array([7]),
    );
  });

  it('encodes a view of part of a buffer as only its own bytes', () => {
    const whole = Buffer.from('0123456789');
    expect((roundTrip(whole.subarray(2, 5)) as Buffer).toString()).toBe('234');
  });

  it('round-trips nested arrays and plain objects, keeping undefined members', () => {
    const value = { a: [1, [2, { b: 'c' }]], d: { e: undefined, f: null }, g: [] };
    expect(roundTrip(value)).toEqual(value);
    expect(Object.keys(roundTrip({ x: undefined }) as object)).toEqual(['x']);
  });

  it('falls back to structured clone for Map, Set, Date, RegExp, BigInt, class instances and deep nesting', () => {
    class Point {
      constructor(readonly x: number) {}
    }
    expect(roundTrip(new Map([[1, 'one']]))).toEqual(new Map([[1, 'one']]));
    expect(roundTrip(new Set(['s']))).toEqual(new Set(['s']));
    expect(roundTrip(new Date(5))).toEqual(new Date(5));
    expect(String(roundTrip(/re/g))).toBe('/re/g');
    expect(roundTrip(10n)).toBe(10n);
    expect(roundTrip(new Point(3))).toEqual({ x: 3 });
    let deep: unknown = 'bottom';
    for (let i = 0; i < 200; i++) deep = [deep];
    expect(roundTrip(deep)).toEqual(deep);
  });

  it('throws what structured clone throws for a function or a symbol', () => {
    expect(() => new Encoder().value(() => 1)).toThrow();
    expect(() => new Encoder().value(Symbol('s'))).toThrow();
  });

  it('re-creates thrown errors with name, message, stack and own properties', () => {
    const encoder = new Encoder();
    const error = Object.assign(new RangeError('out'), { code: 'E_X', detail: [1] });
    encoder.error(error);
    const decoded = new Decoder(
      Buffer.from(encoder.buf.subarray(0, encoder.pos)),
    ).value() as RangeError & {
      code: string;
      detail: number[];
    };
    expect(decoded).toBeInstanceOf(RangeError);
    expect(decoded.message).toBe('out');
    expect(decoded.stack).toBe(error.stack);
    expect(decoded.code).toBe('E_X');
    expect(decoded.detail).toEqual([1]);
  });

  it('keeps an error whose properties cannot be encoded, without them', () => {
    const encoder = new Encoder();
    encoder.error(Object.assign(new Error('m'), { fn: () => 1 }));
    const decoded = new Decoder(
      Buffer.from(encoder.buf.subarray(0, encoder.pos)),
    ).value() as Error & { fn?: unknown };
    expect(decoded.message).toBe('m');
    expect(decoded.fn).toBeUndefined();
  });

  it('grows its scratch buffer for large values', () => {
    const big = Buffer.alloc(100_000, 3);
    expect((roundTrip(big) as Buffer).equals(big)).toBe(true);
  });
});
