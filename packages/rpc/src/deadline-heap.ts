/**
 * Deadlines of the server's calls whose handler watches `context.signal`: a binary min-heap whose
 * entries know their position, so a call that settles leaves at once (O(log n)) and the heap only
 * ever holds calls in flight. Entries come in any order (a handler asks for its signal whenever
 * it likes), which is why this is a heap and not the client's queue (deadline-queue.ts). One Node
 * timer serves the whole heap; it is re-armed only when it fires or when an earlier deadline
 * than the armed one arrives, not per call.
 */
import { delayUntil, now } from './clock';

/** Something with a deadline: the heap owns `heapIndex` (-1 while not in a heap). */
export interface Deadlined {
  deadline: number;
  heapIndex: number;
  /** The deadline passed (called once, after the entry left the heap). */
  expire(now: number): void;
}

export class DeadlineHeap {
  readonly #items: Deadlined[] = [];
  #timer: NodeJS.Timeout | null = null;
  #armedFor = Number.POSITIVE_INFINITY;

  add(item: Deadlined): void {
    const items = this.#items;
    item.heapIndex = items.length;
    items.push(item);
    this.#up(item.heapIndex);
    if (item.deadline < this.#armedFor) this.#arm(item.deadline);
  }

  /** Takes `item` out (no-op when it is not in the heap). */
  remove(item: Deadlined): void {
    const index = item.heapIndex;
    if (index < 0) return;
    const items = this.#items;
    const last = items.pop()!;
    item.heapIndex = -1;
    if (last === item) return;
    items[index] = last;
    last.heapIndex = index;
    this.#down(index);
    this.#up(last.heapIndex);
  }

  /** Stops the timer (the owner closed); entries stay until removed. */
  stop(): void {
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
    const items = this.#items;
    const time = now();
    while (items.length > 0 && items[0]!.deadline <= time) {
      const item = items[0]!;
      this.remove(item);
      item.expire(time);
    }
    if (items.length > 0) this.#arm(items[0]!.deadline);
  };

  #up(index: number): void {
    const items = this.#items;
    const item = items[index]!;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = items[parentIndex]!;
      if (parent.deadline <= item.deadline) break;
      items[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    items[index] = item;
    item.heapIndex = index;
  }

  #down(index: number): void {
    const items = this.#items;
    const length = items.length;
    const item = items[index]!;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && items[right]!.deadline < items[left]!.deadline ? right : left;
      if (items[child]!.deadline >= item.deadline) break;
      items[index] = items[child]!;
      items[index]!.heapIndex = index;
      index = child;
    }
    items[index] = item;
    item.heapIndex = index;
  }
}
