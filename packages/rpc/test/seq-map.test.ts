/**
 * SeqMap, the table of calls by seq on both sides: it behaves as a Map under any sequence of
 * operations (fast-check against a Map model), and — why it exists — an entry taken out of it
 * dies in the next scavenge even after a full GC has promoted the table (V8 keeps a Map's
 * outgrown tables linked, so there the dead entries survive).
 */
import { retainedThroughScavenges } from '@netpoll/jest-config/heap';
import fc from 'fast-check';
import { SeqMap } from '../src/seq-map';

type Op =
  | { readonly op: 'set'; readonly seq: number; readonly value: number }
  | { readonly op: 'take'; readonly seq: number; readonly expected: boolean }
  | { readonly op: 'get'; readonly seq: number };

/** Seqs that collide on purpose: a few values, their neighbours, and ones 2^k apart. */
const seqArbitrary = fc.oneof(
  fc.integer({ min: 0, max: 40 }),
  fc.integer({ min: 0, max: 12 }).map((k) => (2 ** k * 3) >>> 0),
  fc.constantFrom(0xffffffff, 0xfffffffe, 0x80000000, 0x7fffffff, 64, 128, 192),
  fc.nat({ max: 0xffffffff }),
);

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), seq: seqArbitrary, value: fc.nat() }),
  fc.record({ op: fc.constant('take' as const), seq: seqArbitrary, expected: fc.boolean() }),
  fc.record({ op: fc.constant('get' as const), seq: seqArbitrary }),
);

describe('SeqMap', () => {
  it('agrees with a Map under any sequence of set, take (with or without expected) and get', () => {
    fc.assert(
      fc.property(fc.array(opArbitrary, { maxLength: 400 }), (ops) => {
        const table = new SeqMap<{ value: number }>(4);
        const model = new Map<number, { value: number }>();
        for (const step of ops) {
          if (step.op === 'set') {
            const entry = { value: step.value };
            table.set(step.seq, entry);
            model.set(step.seq, entry);
          } else if (step.op === 'take') {
            const present = model.get(step.seq);
            // With `expected`, half the time the right entry, half a stranger (nothing taken).
            const expected = step.expected
              ? present !== undefined && step.seq % 2 === 0
                ? present
                : { value: -1 }
              : undefined;
            const taken = table.take(step.seq, expected);
            const wanted = expected === undefined || expected === present ? present : undefined;
            expect(taken).toBe(wanted);
            if (wanted !== undefined) model.delete(step.seq);
          } else {
            expect(table.get(step.seq)).toBe(model.get(step.seq));
          }
          expect(table.size).toBe(model.size);
        }
        const inOrder = [...model.entries()].sort((a, b) => a[0] - b[0]).map((entry) => entry[1]);
        expect(table.values()).toEqual(inOrder);
        for (const seq of model.keys()) expect(table.get(seq)).toBe(model.get(seq));
      }),
      { numRuns: 300 },
    );
  });

  it("holds a client's sequential seqs as calls come and go", () => {
    const table = new SeqMap<number>();
    let oldest = 1;
    let wrong = 0;
    for (let seq = 1; seq <= 100_000; seq++) {
      table.set(seq, seq);
      if (seq - oldest >= 100 && table.take(oldest) !== oldest++) wrong++;
    }
    expect(wrong).toBe(0);
    expect(table.size).toBe(100);
    expect(table.values()).toEqual(Array.from({ length: 100 }, (_, i) => 100_001 - 100 + i));
    table.clear();
    expect(table.size).toBe(0);
    expect(table.get(100_000)).toBeUndefined();
  });

  it('keeps probe runs short with 10 000 in flight, for sequential seqs and seqs chosen to collide', () => {
    // `window` calls in flight, oldest taken first, as replies to calls in order come back;
    // the longest run of occupied slots is what a take shifts through and a miss walks.
    const longestRun = (window: number, seqOf: (i: number) => number, ops: number): number => {
      const table = new SeqMap<number>();
      let lost = 0;
      for (let i = 0; i < ops; i++) {
        table.set(seqOf(i), i);
        if (i >= window && table.take(seqOf(i - window)) !== i - window) lost++;
      }
      expect(lost).toBe(0);
      expect(table.size).toBe(window);
      return table.longestRun();
    };
    // A client's sequential seqs: placed by their low bits, the live ones were one run of 10 000.
    expect(longestRun(10_000, (i) => i + 1, 20_000)).toBeLessThan(200);
    // A peer's seqs (the server's table): multiples of 2^18 share their low 15 bits, so by low
    // bits every probe started at slot 0.
    expect(longestRun(10_000, (i) => (i * 2 ** 18) >>> 0, 16_384)).toBeLessThan(200);
  });

  it('gives back the memory of a burst: grows at half full, shrinks at an eighth', () => {
    const table = new SeqMap<number>();
    expect(table.capacity).toBe(64);
    for (let seq = 1; seq <= 10_000; seq++) table.set(seq, seq);
    expect(table.capacity).toBe(32_768);
    for (let seq = 1; seq <= 9_990; seq++) table.take(seq);
    expect(table.size).toBe(10);
    expect(table.capacity).toBe(64);
    expect(table.values()).toEqual(Array.from({ length: 10 }, (_, i) => 9_991 + i));
  });

  it('lets taken entries die in scavenges after a full GC promoted the table (a Map keeps them)', () => {
    const table = new SeqMap<object>();
    // A steady churn of 100 calls in flight, as on a busy connection.
    let seq = 0;
    const churn = (rounds: number, entry: () => object): void => {
      for (let round = 0; round < rounds; round++) {
        table.set(++seq, entry());
        if (table.size > 100) table.take(seq - 100);
      }
    };
    const retained = retainedThroughScavenges(
      () => churn(10_000, () => ({})),
      () => {
        // 2000 entries of about 8 KiB each pass through the table, then it is emptied.
        churn(2000, () => new Array<number>(1024).fill(seq));
        for (let last = seq - 99; last <= seq; last++) table.take(last);
        expect(table.size).toBe(0);
      },
    );
    // Measured: a Map in the same steps keeps about 10.7 MB of them; this table keeps none (3 KB
    // in 8 runs beside a busy core; V8's own allocations can add a few hundred KB): large entries
    // make what is kept dwarf that noise. (One that did not clear the array it resized from kept
    // 250 KB.)
    expect(retained).toBeLessThan(2 * 1024 * 1024);
  });

  it('lets the values it moved in a resize die in scavenges when the array it left was old', () => {
    const table = new SeqMap<object>();
    let first = 1;
    let next = 1;
    const add = (count: number, value: () => object): void => {
      for (let i = 0; i < count; i++) table.set(next++, value());
    };
    const takeDownTo = (size: number): void => {
      while (table.size > size) table.take(first++);
    };
    const retained = retainedThroughScavenges(
      // 256 slots, 40 in use (not yet an eighth, so no shrink): the full GC makes the arrays old.
      () => {
        takeDownTo(0);
        add(100, () => ({}));
        takeDownTo(40);
      },
      () => {
        // 60 entries of 96 KiB each join; draining shrinks the table below 32, so about 31 of
        // them move to a new array before they are taken too.
        add(60, () => new Array<number>(12_288).fill(next));
        takeDownTo(0);
        expect(table.capacity).toBe(64);
      },
    );
    // Measured: a table that left the moved values in the old array kept them all, 2.9 MB.
    expect(retained).toBeLessThan(1024 * 1024);
  });
});
