/**
 * Deadlines of the server's calls whose handler watches `context.signal`: a heap of the calls
 * (`IndexedHeap`), so a call that settles leaves at once (O(log n)) and the heap only ever holds
 * calls in flight. Entries come in any order (a handler asks for its signal whenever it likes),
 * which is why this is a heap and not the client's queue of lists (deadline-queue.ts).
 */
import { DeadlineTimer, now } from './clock';
import { type HeapEntry, IndexedHeap } from './indexed-heap';

/** Something with a deadline: the heap owns `heapIndex` (-1 while not in a heap). */
export interface Deadlined extends HeapEntry {
  /** The deadline passed (called once, after the entry left the heap). */
  expire(now: number): void;
}

export class DeadlineHeap {
  readonly #heap = new IndexedHeap<Deadlined>();
  readonly #timer = new DeadlineTimer(() => this.#fire());

  add(item: Deadlined): void {
    this.#heap.push(item);
    this.#timer.armFor(item.deadline);
  }

  /** Takes `item` out (no-op when it is not in the heap). */
  remove(item: Deadlined): void {
    this.#heap.remove(item);
  }

  /** Stops the timer for good (the owner closed); entries stay until removed. */
  stop(): void {
    this.#timer.stop();
  }

  #fire(): void {
    const heap = this.#heap;
    const time = now();
    let item = heap.peek();
    while (item !== undefined && item.deadline <= time) {
      heap.remove(item);
      item.expire(time);
      item = heap.peek();
    }
    if (item !== undefined) this.#timer.armFor(item.deadline);
  }
}
