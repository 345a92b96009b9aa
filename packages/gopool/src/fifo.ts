/**
 * A first-in first-out queue on a growable power-of-two circular array: O(1) push, shift
 * and unshift with no allocation per element once grown (a plain array's `shift()` is
 * O(n) once V8 leaves its fast path).
 */
export class Fifo<T> {
  #items: (T | undefined)[];
  #mask: number;
  #head = 0; // Index of the oldest element.
  #size = 0;

  /** `capacity` is the initial slot count, rounded up to a power of two. */
  constructor(capacity = 16) {
    let n = 4;
    while (n < capacity) n *= 2;
    this.#items = new Array<T | undefined>(n);
    this.#mask = n - 1;
  }

  /** Number of elements queued. */
  get size(): number {
    return this.#size;
  }

  /** Appends `item` at the tail. */
  push(item: T): void {
    if (this.#size > this.#mask) this.#grow();
    this.#items[(this.#head + this.#size) & this.#mask] = item;
    this.#size++;
  }

  /** Inserts `item` at the head, so that it is the next one `shift()` returns. */
  unshift(item: T): void {
    if (this.#size > this.#mask) this.#grow();
    this.#head = (this.#head - 1) & this.#mask;
    this.#items[this.#head] = item;
    this.#size++;
  }

  /** Removes and returns the oldest element, or `undefined` when empty. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined; // Drop the reference so the element can be collected.
    this.#head = (this.#head + 1) & this.#mask;
    this.#size--;
    return item;
  }

  /** Returns the oldest element without removing it, or `undefined` when empty. */
  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#items[this.#head];
  }

  /** Removes every element for which `predicate` is true, keeping the order of the others. */
  removeWhere(predicate: (item: T) => boolean): number {
    const kept: T[] = [];
    let removed = 0;
    for (let item = this.shift(); item !== undefined; item = this.shift()) {
      if (predicate(item)) removed++;
      else kept.push(item);
    }
    for (const item of kept) this.push(item);
    return removed;
  }

  #grow(): void {
    const old = this.#items;
    const n = old.length * 2;
    const items = new Array<T | undefined>(n);
    for (let i = 0; i < this.#size; i++) items[i] = old[(this.#head + i) & this.#mask];
    // The dropped array may be old: until a full GC its slots still count as roots in scavenges,
    // and would keep the moved items (and all they hold) alive.
    old.fill(undefined);
    this.#items = items;
    this.#head = 0;
    this.#mask = n - 1;
  }
}
