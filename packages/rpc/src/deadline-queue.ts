/**
 * Deadlines of a client's calls in flight, kept the way Node keeps its own timers: one list per
 * timeout duration, in deadline order, and a heap of those lists by their earliest deadline. A
 * client's calls of one duration come in deadline order (their start times only grow), so adding
 * one appends it to its list, and a call that settles unlinks itself: O(1) per call, where a heap
 * of the calls themselves moved about log2(n) entries on every removal, each store with a GC
 * write barrier (a measurable part of the client's cost per call). A list leaves the heap with
 * its last entry, so the queue never holds more lists than calls. One timer serves the queue.
 */
import { DeadlineTimer, now } from './clock';
import { type HeapEntry, IndexedHeap } from './indexed-heap';

/** Something with a deadline: the queue owns the links (`deadlineList` null while not queued). */
export interface DeadlineEntry {
  readonly deadline: number;
  deadlineList: DeadlineList | null;
  deadlinePrev: DeadlineEntry | null;
  deadlineNext: DeadlineEntry | null;
  /** The deadline passed (called once, after the entry left the queue). */
  expire(now: number): void;
}

/** The entries of one duration, in deadline order; never empty while in the queue. */
export class DeadlineList implements HeapEntry {
  readonly duration: number;
  first: DeadlineEntry | null = null;
  last: DeadlineEntry | null = null;
  /**
   * The list's place in the heap: never later than its first entry's deadline (a removal makes
   * the first deadline later without touching the heap; the list is looked at again when this
   * one is due).
   */
  deadline: number;
  heapIndex = -1;

  constructor(duration: number, deadline: number) {
    this.duration = duration;
    this.deadline = deadline;
  }
}

export class DeadlineQueue {
  readonly #lists = new Map<number, DeadlineList>();
  readonly #heap = new IndexedHeap<DeadlineList>();
  readonly #timer = new DeadlineTimer(() => this.#fire());

  /**
   * Adds `item` (not queued, finite deadline) to the list of `duration` (ms). Entries of one
   * duration should come in deadline order: one that does not is inserted from the list's end.
   */
  add(item: DeadlineEntry, duration: number): void {
    let list = this.#lists.get(duration);
    if (list === undefined) {
      list = new DeadlineList(duration, item.deadline);
      this.#lists.set(duration, list);
      this.#heap.push(list);
    }
    item.deadlineList = list;
    let after = list.last;
    while (after !== null && after.deadline > item.deadline) after = after.deadlinePrev;
    const before = after === null ? list.first : after.deadlineNext;
    item.deadlinePrev = after;
    item.deadlineNext = before;
    if (after === null) list.first = item;
    else after.deadlineNext = item;
    if (before === null) list.last = item;
    else before.deadlinePrev = item;
    if (item.deadline < list.deadline) {
      list.deadline = item.deadline;
      this.#heap.update(list);
    }
    this.#timer.armFor(item.deadline);
  }

  /** Takes `item` out (no-op when it is not queued); its list leaves with its last entry. */
  remove(item: DeadlineEntry): void {
    const list = item.deadlineList;
    if (list === null) return;
    const prev = item.deadlinePrev;
    const next = item.deadlineNext;
    if (prev === null) list.first = next;
    else prev.deadlineNext = next;
    if (next === null) list.last = prev;
    else next.deadlinePrev = prev;
    item.deadlineList = null;
    item.deadlinePrev = null;
    item.deadlineNext = null;
    if (list.first === null) {
      this.#lists.delete(list.duration);
      this.#heap.remove(list);
    }
  }

  /** @internal Lists held (tests). */
  get listCount(): number {
    return this.#lists.size;
  }

  /** Stops the timer for good (the owner closed); entries stay until removed. */
  stop(): void {
    this.#timer.stop();
  }

  #fire(): void {
    const heap = this.#heap;
    const time = now();
    // The top is read again each time round: an expire() may add or remove entries and lists.
    let list = heap.peek();
    while (list !== undefined && list.deadline <= time) {
      const item = list.first!;
      if (item.deadline <= time) {
        this.remove(item);
        item.expire(time);
      } else {
        list.deadline = item.deadline;
        heap.update(list);
      }
      list = heap.peek();
    }
    if (list !== undefined) this.#timer.armFor(list.deadline);
  }
}
