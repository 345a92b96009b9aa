/**
 * Deadlines of a client's calls in flight, kept the way Node keeps its own timers: one list per
 * timeout duration, in deadline order, and a small binary heap of those lists by their earliest
 * deadline. A client's calls of one duration come in deadline order (their start times only
 * grow), so adding one appends it to its list, and a call that settles unlinks itself: O(1) per
 * call, where a heap of the calls themselves moved about log2(n) entries on every removal, each
 * store with a GC write barrier (a measurable part of the client's cost per call). A list leaves
 * the heap when its last entry does, so the queue holds no more lists than calls. One Node timer
 * serves the whole queue; it is re-armed only when it fires or when an earlier deadline than the
 * armed one arrives, not per call.
 */
import { delayUntil, now } from './clock';

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
export class DeadlineList {
  readonly duration: number;
  first: DeadlineEntry | null = null;
  last: DeadlineEntry | null = null;
  /**
   * The list's key in the heap: never later than its first deadline (a removal makes the first
   * deadline later without touching the heap; the list is looked at again when its key is due).
   */
  key: number;
  heapIndex = -1;

  constructor(duration: number, key: number) {
    this.duration = duration;
    this.key = key;
  }
}

export class DeadlineQueue {
  readonly #lists = new Map<number, DeadlineList>();
  /** Binary min-heap of the lists by key. */
  readonly #heap: DeadlineList[] = [];
  #timer: NodeJS.Timeout | null = null;
  #armedFor = Number.POSITIVE_INFINITY;
  #stopped = false;

  /**
   * Adds `item` (not queued, finite deadline) to the list of `duration` (ms). Entries of one
   * duration should come in deadline order: one that does not is inserted from the list's end.
   */
  add(item: DeadlineEntry, duration: number): void {
    let list = this.#lists.get(duration);
    if (list === undefined) {
      list = new DeadlineList(duration, item.deadline);
      this.#lists.set(duration, list);
      list.heapIndex = this.#heap.length;
      this.#heap.push(list);
      this.#up(list.heapIndex);
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
    if (item.deadline < list.key) {
      list.key = item.deadline;
      this.#up(list.heapIndex);
    }
    if (item.deadline < this.#armedFor && !this.#stopped) this.#arm(item.deadline);
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
    if (list.first === null) this.#removeList(list);
  }

  /** @internal Lists held (tests). */
  get listCount(): number {
    return this.#lists.size;
  }

  /** Stops the timer for good (the owner closed); entries stay until removed. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#armedFor = Number.POSITIVE_INFINITY;
  }

  #arm(deadline: number): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#armedFor = deadline;
    this.#timer = setTimeout(this.#fire, delayUntil(deadline));
    // Calls keep the process alive through their sockets, not through this timer.
    this.#timer.unref();
  }

  readonly #fire = (): void => {
    this.#timer = null;
    this.#armedFor = Number.POSITIVE_INFINITY;
    const heap = this.#heap;
    const time = now();
    // The top is read again each time round: an expire() may add or remove entries and lists.
    while (heap.length > 0 && heap[0]!.key <= time) {
      const list = heap[0]!;
      const item = list.first!;
      if (item.deadline <= time) {
        this.remove(item);
        item.expire(time);
      } else {
        list.key = item.deadline;
        this.#down(list.heapIndex);
      }
    }
    if (heap.length > 0 && !this.#stopped) this.#arm(heap[0]!.key);
  };

  #removeList(list: DeadlineList): void {
    this.#lists.delete(list.duration);
    const heap = this.#heap;
    const index = list.heapIndex;
    const last = heap.pop()!;
    list.heapIndex = -1;
    if (last === list) return;
    heap[index] = last;
    last.heapIndex = index;
    this.#down(index);
    this.#up(last.heapIndex);
  }

  #up(index: number): void {
    const heap = this.#heap;
    const list = heap[index]!;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex]!;
      if (parent.key <= list.key) break;
      heap[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    heap[index] = list;
    list.heapIndex = index;
  }

  #down(index: number): void {
    const heap = this.#heap;
    const length = heap.length;
    const list = heap[index]!;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && heap[right]!.key < heap[left]!.key ? right : left;
      if (heap[child]!.key >= list.key) break;
      heap[index] = heap[child]!;
      heap[index]!.heapIndex = index;
      index = child;
    }
    heap[index] = list;
    list.heapIndex = index;
  }
}
