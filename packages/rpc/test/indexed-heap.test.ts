/**
 * IndexedHeap, under the server's deadlines and the client's deadline lists: under any sequence
 * of pushes, removals (of any entry, present or not) and deadline changes, every entry knows its
 * place, no parent is later than its child, the top is the earliest, and it drains in order.
 */
import fc from 'fast-check';
import { type HeapEntry, IndexedHeap } from '../src/indexed-heap';

interface Item extends HeapEntry {
  deadline: number;
  readonly id: number;
}

type Op =
  | { readonly op: 'push'; readonly deadline: number }
  | { readonly op: 'remove'; readonly pick: number }
  | { readonly op: 'update'; readonly pick: number; readonly deadline: number };

const deadline = fc.integer({ min: 0, max: 50 });
const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('push' as const), deadline }),
  fc.record({ op: fc.constant('remove' as const), pick: fc.nat({ max: 1 << 20 }) }),
  fc.record({ op: fc.constant('update' as const), pick: fc.nat({ max: 1 << 20 }), deadline }),
);

describe('IndexedHeap', () => {
  it('keeps the earliest deadline on top and drains in order under any pushes, removals and updates', () => {
    fc.assert(
      fc.property(fc.array(opArbitrary, { minLength: 20, maxLength: 150, size: 'max' }), (ops) => {
        const heap = new IndexedHeap<Item>();
        const made: Item[] = [];
        const inHeap = new Set<Item>();
        for (const step of ops) {
          if (step.op === 'push') {
            const item: Item = { deadline: step.deadline, heapIndex: -1, id: made.length };
            made.push(item);
            heap.push(item);
            inHeap.add(item);
          } else if (made.length > 0) {
            // Mostly one in the heap (by its place there, anywhere in the tree), now and then
            // one that left already.
            const live = [...inHeap];
            const item =
              live.length > 0 && step.pick % 8 !== 0
                ? live[Math.floor(step.pick / 8) % live.length]!
                : made[step.pick % made.length]!;
            if (step.op === 'remove') {
              heap.remove(item); // also when it left already: a no-op
              inHeap.delete(item);
              expect(item.heapIndex).toBe(-1);
            } else if (inHeap.has(item)) {
              item.deadline = step.deadline;
              heap.update(item);
            }
          }
          expect(heap.size).toBe(inHeap.size);
          // Every entry at its own place, and no parent later than its child.
          const byPlace: Item[] = [];
          for (const item of inHeap) byPlace[item.heapIndex] = item;
          expect(byPlace.filter(Boolean).length).toBe(inHeap.size);
          for (let index = 1; index < byPlace.length; index++) {
            expect(byPlace[(index - 1) >> 1]!.deadline).toBeLessThanOrEqual(
              byPlace[index]!.deadline,
            );
          }
          const earliest = Math.min(...[...inHeap].map((item) => item.deadline));
          expect(heap.peek()?.deadline).toBe(inHeap.size === 0 ? undefined : earliest);
        }
        const drained: number[] = [];
        for (let top = heap.peek(); top !== undefined; top = heap.peek()) {
          drained.push(top.deadline);
          heap.remove(top);
        }
        expect(drained).toEqual([...inHeap].map((item) => item.deadline).sort((a, b) => a - b));
      }),
      { numRuns: 60 },
    );
  });
});
