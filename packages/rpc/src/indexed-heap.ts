/**
 * A binary min-heap by `deadline` whose entries know their position (`heapIndex`), so any entry
 * leaves or moves in O(log n): the server's deadlines of calls, and the client's deadline lists.
 */

/** What the heap orders: it owns `heapIndex` (-1 while not in the heap). */
export interface HeapEntry {
  readonly deadline: number;
  heapIndex: number;
}

export class IndexedHeap<T extends HeapEntry> {
  readonly #entries: T[] = [];

  get size(): number {
    return this.#entries.length;
  }

  /** The entry with the earliest deadline, or undefined when empty. */
  peek(): T | undefined {
    return this.#entries[0];
  }

  push(entry: T): void {
    const entries = this.#entries;
    entry.heapIndex = entries.length;
    entries.push(entry);
    this.#up(entry.heapIndex);
  }

  /** Takes `entry` out (no-op when it is not in the heap). */
  remove(entry: T): void {
    const index = entry.heapIndex;
    if (index < 0) return;
    const entries = this.#entries;
    const last = entries.pop()!;
    entry.heapIndex = -1;
    if (last === entry) return;
    entries[index] = last;
    last.heapIndex = index;
    this.update(last);
  }

  /** Puts `entry` back in order after its deadline changed. */
  update(entry: T): void {
    this.#down(entry.heapIndex);
    this.#up(entry.heapIndex);
  }

  #up(index: number): void {
    const entries = this.#entries;
    const entry = entries[index]!;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = entries[parentIndex]!;
      if (parent.deadline <= entry.deadline) break;
      entries[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    entries[index] = entry;
    entry.heapIndex = index;
  }

  #down(index: number): void {
    const entries = this.#entries;
    const length = entries.length;
    const entry = entries[index]!;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child =
        right < length && entries[right]!.deadline < entries[left]!.deadline ? right : left;
      if (entries[child]!.deadline >= entry.deadline) break;
      entries[index] = entries[child]!;
      entries[index]!.heapIndex = index;
      index = child;
    }
    entries[index] = entry;
    entry.heapIndex = index;
  }
}
