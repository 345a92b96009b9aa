/**
 * DeadlineQueue, the client's deadlines of calls in flight (and the clock's timer delay): each
 * entry expires once, not before its deadline, and never after it was removed; entries of one
 * duration expire in deadline order even when added out of it; a list leaves with its last entry
 * (no growth with many durations); an expire() that adds entries, or stops the queue, is safe;
 * a deadline beyond what a Node timer takes arms no overflowing timer.
 */
import fc from 'fast-check';
import { delayUntil, now } from '../src/clock';
import { DeadlineHeap } from '../src/deadline-heap';
import { type DeadlineEntry, type DeadlineList, DeadlineQueue } from '../src/deadline-queue';

class Entry implements DeadlineEntry {
  readonly name: string;
  readonly deadline: number;
  deadlineList: DeadlineList | null = null;
  deadlinePrev: DeadlineEntry | null = null;
  deadlineNext: DeadlineEntry | null = null;
  heapIndex = -1;
  expiredAt = -1;
  expiredCount = 0;
  onExpire: (() => void) | null = null;

  constructor(name: string, deadline: number) {
    this.name = name;
    this.deadline = deadline;
  }

  expire(time: number): void {
    this.expiredAt = time;
    this.expiredCount++;
    expiredOrder.push(this.name);
    this.onExpire?.();
  }
}

let expiredOrder: string[] = [];
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `done()` holds (timers may run late on a loaded machine), at most 5 s. */
async function until(done: () => boolean): Promise<void> {
  const give = now() + 5000;
  while (!done() && now() < give) await sleep(5);
}

beforeEach(() => {
  expiredOrder = [];
});

describe('DeadlineQueue', () => {
  it('expires entries of one duration in deadline order, each once and not before its deadline', async () => {
    const queue = new DeadlineQueue();
    const start = now();
    const entries = [0, 5, 10, 15].map((offset, index) => {
      const entry = new Entry(`e${index}`, start + 20 + offset);
      queue.add(entry, 20);
      return entry;
    });
    await until(() => expiredOrder.length === 4);
    expect(expiredOrder).toEqual(['e0', 'e1', 'e2', 'e3']);
    for (const entry of entries) {
      expect(entry.expiredCount).toBe(1);
      expect(entry.expiredAt).toBeGreaterThanOrEqual(entry.deadline);
      expect(entry.deadlineList).toBeNull();
    }
    expect(queue.listCount).toBe(0);
  });

  it('never expires a removed entry, wherever it was in its list', async () => {
    const queue = new DeadlineQueue();
    const start = now();
    const entries = ['a', 'b', 'c', 'd', 'e'].map((name, index) => {
      const entry = new Entry(name, start + 15 + index);
      queue.add(entry, 15);
      return entry;
    });
    queue.remove(entries[0]!); // first
    queue.remove(entries[2]!); // middle
    queue.remove(entries[4]!); // last
    queue.remove(entries[4]!); // again: a no-op
    await until(() => expiredOrder.length === 2);
    await sleep(20); // and nothing more
    expect(expiredOrder).toEqual(['b', 'd']);
    expect(entries[0]!.expiredCount + entries[2]!.expiredCount + entries[4]!.expiredCount).toBe(0);
  });

  it('serves several durations with one timer: a shorter one added later expires first', async () => {
    const queue = new DeadlineQueue();
    const start = now();
    const long = new Entry('long', start + 400);
    queue.add(long, 400);
    queue.add(new Entry('short', start + 10), 10);
    queue.add(new Entry('middle', start + 25), 25);
    await until(() => expiredOrder.length === 2);
    expect(expiredOrder).toEqual(['short', 'middle']);
    expect(long.expiredCount).toBe(0);
    await until(() => expiredOrder.length === 3);
    expect(expiredOrder).toEqual(['short', 'middle', 'long']);
    expect(long.expiredAt).toBeGreaterThanOrEqual(long.deadline);
  });

  it('keeps deadline order in a list when an entry comes later than later deadlines', async () => {
    const queue = new DeadlineQueue();
    const start = now();
    // Out of deadline order (a client's calls of one duration never are; the queue copes).
    queue.add(new Entry('second', start + 20), 10);
    queue.add(new Entry('third', start + 25), 10);
    queue.add(new Entry('first', start + 12), 10);
    queue.add(new Entry('between', start + 22), 10);
    await until(() => expiredOrder.length === 4);
    expect(expiredOrder).toEqual(['first', 'second', 'between', 'third']);
  });

  it('drops a list with its last entry: distinct durations do not pile up', async () => {
    const queue = new DeadlineQueue();
    const start = now();
    const kept = new Entry('kept', start + 30);
    queue.add(kept, 30);
    for (let duration = 1; duration <= 5000; duration++) {
      const entry = new Entry(`d${duration}`, start + 1_000_000 + duration);
      queue.add(entry, 1_000_000 + duration);
      expect(queue.listCount).toBe(2);
      queue.remove(entry);
    }
    expect(queue.listCount).toBe(1);
    await until(() => expiredOrder.length === 1);
    expect(expiredOrder).toEqual(['kept']);
    expect(queue.listCount).toBe(0);
  });

  it('takes entries added by an expire(), to its own list or a new one', async () => {
    const queue = new DeadlineQueue();
    const start = now();
    const first = new Entry('first', start + 5);
    first.onExpire = () => {
      const time = now();
      queue.add(new Entry('same-duration', time + 5), 5);
      queue.add(new Entry('new-duration', time + 2), 2);
      queue.add(new Entry('already-due', time - 1), 3);
    };
    queue.add(first, 5);
    await until(() => expiredOrder.length === 4);
    expect(expiredOrder.slice(0, 1)).toEqual(['first']);
    expect([...expiredOrder].sort()).toEqual(
      ['already-due', 'first', 'new-duration', 'same-duration'].sort(),
    );
    expect(queue.listCount).toBe(0);
  });

  it('stop() from inside an expire() stays stopped: nothing later expires', async () => {
    const queue = new DeadlineQueue();
    const start = now();
    const first = new Entry('first', start + 5);
    first.onExpire = () => queue.stop();
    queue.add(first, 5);
    queue.add(new Entry('later', start + 25), 25);
    await until(() => expiredOrder.length === 1);
    await sleep(50);
    expect(expiredOrder).toEqual(['first']);
  });

  it('stop() disarms: nothing expires afterwards', async () => {
    const queue = new DeadlineQueue();
    queue.add(new Entry('x', now() + 5), 5);
    queue.stop();
    await sleep(30);
    expect(expiredOrder).toEqual([]);
  });

  it('arms no overflowing timer for a deadline beyond 2^31 - 1 ms, in the queue or the heap', async () => {
    expect(delayUntil(now() + 4e9)).toBe(0x7fffffff);
    expect(delayUntil(now() - 5)).toBe(0);
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning.name);
    };
    process.on('warning', onWarning);
    try {
      const queue = new DeadlineQueue();
      const heap = new DeadlineHeap();
      const far = new Entry('far', now() + 4e9);
      const farToo = new Entry('far too', now() + 4e9);
      queue.add(far, 4e9);
      heap.add(farToo);
      await sleep(30);
      queue.remove(far);
      heap.remove(farToo);
      queue.stop();
      heap.stop();
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
    expect(expiredOrder).toEqual([]);
  });

  it('under any adds and removals, expires exactly the entries not removed, none early', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            duration: fc.constantFrom(3, 7, 12, 20),
            skew: fc.integer({ min: -5, max: 5 }),
            removed: fc.boolean(),
          }),
          { maxLength: 60 },
        ),
        async (steps) => {
          expiredOrder = [];
          const queue = new DeadlineQueue();
          const start = now();
          const entries = steps.map((step, index) => {
            const entry = new Entry(String(index), start + step.duration + step.skew);
            queue.add(entry, step.duration);
            return entry;
          });
          steps.forEach((step, index) => {
            if (step.removed) queue.remove(entries[index]!);
          });
          const live = steps.filter((step) => !step.removed).length;
          await until(() => expiredOrder.length >= live && queue.listCount === 0);
          await sleep(5);
          entries.forEach((entry, index) => {
            expect(entry.expiredCount).toBe(steps[index]!.removed ? 0 : 1);
            if (!steps[index]!.removed) {
              expect(entry.expiredAt).toBeGreaterThanOrEqual(entry.deadline);
            }
          });
          expect(queue.listCount).toBe(0);
        },
      ),
      { numRuns: 25 },
    );
  });
});
