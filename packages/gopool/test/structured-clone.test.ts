import { join } from 'node:path';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { WorkerPool } from '../src';
import { referenceShape } from './helpers/reference-shape';
import { sameClone } from './helpers/same-clone';

// A task that returns its argument crosses the rings twice (task, then result), so these
// properties check both directions of the encoding against what structuredClone makes.
const tasks = join(__dirname, 'fixtures', 'tasks.js');
let pool: WorkerPool;

beforeAll(() => {
  pool = new WorkerPool({ filename: tasks, minThreads: 1, maxThreads: 1 });
});

afterAll(() => pool.destroy());

jest.setTimeout(120_000);

async function expectLikeStructuredClone(value: unknown): Promise<void> {
  const expected = structuredClone(value);
  const actual = await pool.run(value, { name: 'echo' });
  // sameClone tells holes from undefined, compares prototypes and an array's non-index
  // properties; referenceShape adds what it cannot see: shared objects and cycles.
  if (!sameClone(actual, expected)) {
    throw new Error(
      `differs from structuredClone:\n${inspect({ actual, expected }, { depth: 8 })}`,
    );
  }
  expect(referenceShape(actual)).toEqual(referenceShape(expected));
}

// Strings of any code point, plus lone surrogates (fast-check's 'binary' unit leaves them out).
const unit = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  },
);
const text = fc.string({ unit, maxLength: 12 });
const key = fc.oneof(
  { weight: 4, arbitrary: text },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', '0', '1', '7') },
);

// Own enumerable data properties, as JSON.parse makes them: defineProperty never calls the
// `__proto__` setter, so `__proto__` becomes an ordinary own key. Callers pass a fresh
// target: fast-check keeps the values it generated for shrinking.
function withOwn<T extends object>(target: T, entries: readonly (readonly [string, unknown])[]): T {
  for (const [name, value] of entries) {
    if (Array.isArray(target) && name === 'length') continue;
    Object.defineProperty(target, name, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return target;
}

const leaf = fc.oneof(
  fc.boolean(),
  fc.integer(),
  fc.double(),
  text,
  fc.constantFrom(null, undefined, -0, 2 ** 31, Number.NaN),
  fc.bigInt(),
  fc.date({ noInvalidDate: true }),
  fc.uint8Array({ maxLength: 8 }),
  fc.float64Array({ maxLength: 4 }),
  fc.bigInt64Array({ maxLength: 2 }),
  fc.int16Array({ maxLength: 4 }).map((array) => array.buffer),
  fc.constantFrom(/a+/g, /b/imsu),
);

const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    leaf,
    tie('array'),
    tie('sparse'),
    tie('arrayWithProps'),
    tie('object'),
    tie('nullProto'),
    tie('map'),
    tie('set'),
    tie('shared'),
    tie('cycle'),
  ),
  array: fc.array(tie('value'), { maxLength: 5 }),
  sparse: fc.sparseArray(tie('value'), { maxLength: 8, maxNumElements: 4 }),
  arrayWithProps: fc
    .tuple(
      fc.array(tie('value'), { maxLength: 4 }),
      fc.array(fc.tuple(key, tie('value')), { maxLength: 3 }),
    )
    .map(([array, entries]) => withOwn([...array], entries)),
  object: fc
    .array(fc.tuple(key, tie('value')), { maxLength: 4 })
    .map((entries) => withOwn({}, entries)),
  nullProto: fc
    .array(fc.tuple(key, tie('value')), { maxLength: 3 })
    .map((entries) => withOwn(Object.create(null) as object, entries)),
  map: fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 3 }).map((e) => new Map(e)),
  set: fc.array(tie('value'), { maxLength: 3 }).map((members) => new Set(members)),
  // The same object twice: structuredClone keeps one object, referenced twice.
  shared: tie('value').map((member) => [member, { again: member }]),
  cycle: fc.array(tie('value'), { maxLength: 3 }).map((members) => {
    const array: unknown[] = [...members];
    array.push({ parent: array });
    return array;
  }),
}));

describe('sameClone (the comparison these properties rely on)', () => {
  it('tells apart what structuredClone keeps apart', () => {
    // biome-ignore lint/suspicious/noSparseArray: holes are what this checks
    expect(sameClone([1, , 3], [1, , 3])).toBe(true);
    // biome-ignore lint/suspicious/noSparseArray: holes are what this checks
    expect(sameClone([, 1], [undefined, 1])).toBe(false);
    expect(sameClone(Object.assign([1], { x: 2 }), [1])).toBe(false);
    const own = JSON.parse('{"__proto__": {"p": 1}}') as object;
    expect(sameClone(own, { __proto__: { p: 1 } })).toBe(false);
    expect(sameClone(own, JSON.parse('{"__proto__": {"p": 1}}'))).toBe(true);
    expect(sameClone({}, Object.create(null))).toBe(false);
    expect(sameClone(-0, 0)).toBe(false);
    expect(sameClone(new Uint8Array([1]), new Int8Array([1]))).toBe(false);
    expect(sameClone(new Map([[1, 2]]), new Map([[1, 3]]))).toBe(false);
    expect(sameClone({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(false);
    expect(referenceShape([own, own])).not.toEqual(referenceShape([own, { ...own }]));
  });
});

describe('WorkerPool carries values as structuredClone does', () => {
  it('for the cases fast-check found and the ones the issue names', async () => {
    const proto = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as object;
    const extra = Object.assign([1, 2], { note: 'x' });
    // biome-ignore lint/suspicious/noSparseArray: holes are what this checks
    const holey = [[[,]], [1, , 3], [, undefined]];
    for (const value of [...holey, extra, proto, [proto], { list: extra }]) {
      await expectLikeStructuredClone(value);
    }
    const back = await pool.run<Record<string, unknown>>(proto, { name: 'echo' });
    // Object.prototype, of whichever realm built it (jest's or Node's), not the key's value.
    expect(Object.getPrototypeOf(Object.getPrototypeOf(back))).toBeNull();
    expect(Object.hasOwn(back, '__proto__')).toBe(true);
    expect(back.polluted).toBeUndefined();
  });

  it('for arbitrary nested values: holes, extra array properties, __proto__ keys, Maps, Sets, shared objects, cycles', async () => {
    await fc.assert(fc.asyncProperty(value, expectLikeStructuredClone), { numRuns: 400 });
  });

  it('for fc.anything() with every option structuredClone supports', async () => {
    const anything = fc.anything({
      key,
      values: [leaf],
      withBoxedValues: true,
      withMap: true,
      withSet: true,
      withObjectString: true,
      withNullPrototype: true,
      withBigInt: true,
      withTypedArray: true,
      withSparseArray: true,
    });
    await fc.assert(fc.asyncProperty(anything, expectLikeStructuredClone), { numRuns: 400 });
  });
});
