import { Tag } from '../src/codec';
import { Decoder } from '../src/decoder';
import { Encoder, kHoldsSharedMemory } from '../src/encoder';

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
  it('refuses shared memory anywhere in a value, on both paths, and encodes the next value', () => {
    const memory = new SharedArrayBuffer(8);
    const encoder = new Encoder();
    for (const value of [
      memory,
      { deep: [new Int32Array(memory)] },
      Buffer.from(memory),
      new DataView(memory, 2),
      new Map([['view', new Uint8Array(memory)]]), // the structured-clone fallback
      new Map([['memory', memory]]),
    ]) {
      encoder.reset(0);
      let thrown: unknown;
      try {
        encoder.value(value);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBe(kHoldsSharedMemory);
    }
    expect(roundTrip({ bytes: new Uint8Array([1, 2]) })).toEqual({ bytes: new Uint8Array([1, 2]) });
    expect(roundTrip(new Map([['bytes', new Uint8Array([3])]]))).toEqual(
      new Map([['bytes', new Uint8Array([3])]]),
    );
  });

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

  it('keeps holes in arrays as holes', () => {
    // biome-ignore lint/suspicious/noSparseArray: holes are what this checks
    const decoded = roundTrip([[, 1], [,], [1, , 3]]) as unknown[][];
    expect(decoded.map((array) => array.length)).toEqual([2, 1, 3]);
    expect(decoded.map((array) => Object.keys(array))).toEqual([['1'], [], ['0', '2']]);
  });

  it('keeps the named properties of arrays', () => {
    const decoded = roundTrip({ list: Object.assign([1, 2], { note: 'x' }) }) as {
      list: number[] & { note: string };
    };
    expect(Object.keys(decoded.list)).toEqual(['0', '1', 'note']);
    expect(decoded.list.note).toBe('x');
    // As many holes as named properties: the counts match, the holes must still show.
    // biome-ignore lint/suspicious/noSparseArray: holes are what this checks
    const balanced = roundTrip(Object.assign([, 2], { extra: 1 })) as unknown[];
    expect(Object.keys(balanced)).toEqual(['1', 'extra']);
  });

  it('keeps an own __proto__ key as an own property without changing the prototype', () => {
    const decoded = roundTrip(JSON.parse('{"a": 1, "__proto__": {"polluted": true}}')) as Record<
      string,
      unknown
    >;
    // Object.prototype, of whichever realm built it (jest's or Node's), not the key's value.
    expect(Object.getPrototypeOf(Object.getPrototypeOf(decoded))).toBeNull();
    expect(Object.keys(decoded)).toEqual(['a', '__proto__']);
    expect(Object.getOwnPropertyDescriptor(decoded, '__proto__')?.value).toEqual({
      polluted: true,
    });
    expect(decoded.polluted).toBeUndefined();
  });

  it('keeps the identity of objects reached twice, and cycles', () => {
    const shared = { n: 1 };
    const pair = roundTrip([shared, { again: shared }]) as [object, { again: object }];
    expect(pair[1].again).toBe(pair[0]);
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const loop = roundTrip(cyclic) as Record<string, unknown>;
    expect(loop.self).toBe(loop);
    // Also between the part that needs structured clone and the rest.
    const mixed = roundTrip([shared, new Map([[1, shared]])]) as [object, Map<number, object>];
    expect(mixed[1].get(1)).toBe(mixed[0]);
    const bytes = Buffer.from('b');
    const twice = roundTrip([bytes, bytes]) as Buffer[];
    expect(twice[1]).toBe(twice[0]);
    expect(Buffer.isBuffer(twice[0])).toBe(true);
  });

  it('keeps the identity of objects reached twice among many', () => {
    const many = Array.from({ length: 100 }, (_, i) => ({ i }));
    const decoded = roundTrip([...many, many[70]]) as object[];
    expect(decoded[100]).toBe(decoded[70]);
    expect(new Set(decoded).size).toBe(100);
  });

  it('keeps unpaired surrogates in strings and keys', () => {
    const lone = 'a\ud800b\udc00';
    const decoded = roundTrip({ [lone]: lone, list: ['\udfff'] }) as Record<string, unknown>;
    expect(Object.keys(decoded)).toEqual([lone, 'list']);
    expect(decoded[lone]).toBe(lone);
    expect(decoded.list).toEqual(['\udfff']);
    // Long strings take a byte search first; U+FFFD and U+FF71 write 0xEF bytes themselves.
    for (const long of ['✓'.repeat(100) + lone, '\ufffd'.repeat(70), 'ｱ'.repeat(70) + lone]) {
      expect(roundTrip(long)).toBe(long);
    }
  });

  it('keeps a resizable ArrayBuffer resizable', () => {
    const buffer = new ArrayBuffer(4, { maxByteLength: 16 });
    const decoded = roundTrip(buffer) as ArrayBuffer;
    expect(decoded.resizable).toBe(true);
    expect(decoded.maxByteLength).toBe(16);
  });

  it('skips enumerable keys inherited from Object.prototype, as structured clone does', () => {
    Object.defineProperty(Object.prototype, 'inherited', {
      value: 1,
      enumerable: true,
      configurable: true,
    });
    try {
      expect(Object.keys(roundTrip({ own: 2 }) as object)).toEqual(['own']);
    } finally {
      delete (Object.prototype as Record<string, unknown>).inherited;
    }
  });

  it('writes plain trees in the tagged format, without the structured-clone fallback', () => {
    const encoder = new Encoder();
    // Sizes: tag 1, count or length 4, key 4 + bytes, int32 5, bytes 1 + kind 1 + length 4 + data.
    for (const [value, tag, size] of [
      [[1, 2, 3], Tag.Array, 20],
      [{ a: 1 }, Tag.Object, 15],
      [{ a: [Buffer.from('x')] }, Tag.Object, 22],
    ] as const) {
      encoder.reset(0);
      encoder.value(value);
      expect([encoder.buf[0], encoder.pos]).toEqual([tag, size]);
    }
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
