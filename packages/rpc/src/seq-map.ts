/**
 * Calls by sequence number: the client's calls written on a connection, the server's running
 * calls of one. An open-addressing table (linear probing from a hash of the seq) in two arrays.
 *
 * Not a `Map`, for the garbage collector's sake: when V8 rehashes a Map's table (a few dozen
 * deletes under a steady set/delete churn), the old table keeps a link to the new one and its
 * entries. Once a full GC has moved a table to the old generation, that dead table keeps the next
 * one alive through every scavenge, which promotes it, which keeps the next one: from then on
 * nearly everything a call allocates survives. Measured with 100 callers on a 4-connection mux
 * client: scavenges went from 0.4 ms to 9–10 ms after one full GC and stayed there, costing 50–70 %
 * more CPU per call and a p99 of 8 ms instead of 0.7 ms. Arrays have no such link.
 *
 * The hash is multiply-shift with a random odd multiplier per table (the top bits of
 * `seq * multiplier`), so the expected probe run is short for any set of seqs: not by a seq's low
 * bits, where a client's sequential seqs would fill one run of consecutive slots (a take then
 * shifts back through every call in flight after it, a miss walks to the run's end), and a peer's
 * seqs chosen with equal low bits would all start at one slot (a quadratic cost that the reactor,
 * serving every connection, would pay). The table stays at most half full.
 */
export class SeqMap<T> {
  #keys: Uint32Array;
  #values: (T | undefined)[];
  #mask: number;
  /** 32 minus log2 of the capacity: `>>> #shift` keeps the hash's top bits. */
  #shift: number;
  readonly #multiplier = ((Math.random() * 0x100000000) >>> 0) | 1;
  #size = 0;
  readonly #initialCapacity: number;

  /** `capacity`: initial slots, a power of two (at least 2); the table never shrinks below it. */
  constructor(capacity = 64) {
    capacity = Math.max(2, capacity);
    this.#initialCapacity = capacity;
    this.#keys = new Uint32Array(capacity);
    this.#values = new Array<T | undefined>(capacity).fill(undefined);
    this.#mask = capacity - 1;
    this.#shift = Math.clz32(capacity) + 1;
  }

  get size(): number {
    return this.#size;
  }

  /** Slots (grown at half full, shrunk at an eighth). */
  get capacity(): number {
    return this.#values.length;
  }

  /** The slot holding `seq`, or -1. */
  #find(seq: number): number {
    const keys = this.#keys;
    const values = this.#values;
    const mask = this.#mask;
    for (let slot = Math.imul(seq, this.#multiplier) >>> this.#shift; ; slot = (slot + 1) & mask) {
      if (values[slot] === undefined) return -1;
      if (keys[slot] === seq) return slot;
    }
  }

  get(seq: number): T | undefined {
    const slot = this.#find(seq);
    return slot < 0 ? undefined : this.#values[slot];
  }

  /** Adds `value` under `seq` (an integer 0 – 2^32 - 1), replacing what was there. */
  set(seq: number, value: T): void {
    const found = this.#find(seq);
    if (found >= 0) {
      this.#values[found] = value;
      return;
    }
    if ((this.#size + 1) * 2 > this.#values.length) this.#resize(this.#values.length * 2);
    this.#insert(seq, value);
    this.#size++;
  }

  #insert(seq: number, value: T): void {
    const values = this.#values;
    const mask = this.#mask;
    let slot = Math.imul(seq, this.#multiplier) >>> this.#shift;
    while (values[slot] !== undefined) slot = (slot + 1) & mask;
    this.#keys[slot] = seq;
    values[slot] = value;
  }

  /** Re-inserts every entry into `capacity` slots (a power of two, at least twice the size). */
  #resize(capacity: number): void {
    const keys = this.#keys;
    const values = this.#values;
    this.#keys = new Uint32Array(capacity);
    this.#values = new Array<T | undefined>(capacity).fill(undefined);
    this.#mask = capacity - 1;
    this.#shift = Math.clz32(capacity) + 1;
    for (let slot = 0; slot < values.length; slot++) {
      const value = values[slot];
      if (value !== undefined) this.#insert(keys[slot]!, value);
    }
    // The dropped array may be old: until a full GC its slots still count as roots in scavenges,
    // and would keep the moved values (and all they hold) alive.
    values.fill(undefined);
  }

  /** Removes `seq` and returns its value; only when it is `expected`, if given. */
  take(seq: number, expected?: T): T | undefined {
    const slot = this.#find(seq);
    if (slot < 0) return undefined;
    const values = this.#values;
    const value = values[slot];
    if (expected !== undefined && value !== expected) return undefined;
    // Backward-shift deletion: pull later entries of the probe run into the hole when the hole
    // lies between their home slot and where they sit, so no lookup ever stops short.
    const keys = this.#keys;
    const mask = this.#mask;
    const multiplier = this.#multiplier;
    const shift = this.#shift;
    let hole = slot;
    for (let next = (slot + 1) & mask; values[next] !== undefined; next = (next + 1) & mask) {
      const home = Math.imul(keys[next]!, multiplier) >>> shift;
      if (((next - home) & mask) >= ((next - hole) & mask)) {
        keys[hole] = keys[next]!;
        values[hole] = values[next];
        hole = next;
      }
    }
    values[hole] = undefined;
    this.#size--;
    // A burst of calls grew the table: give the memory back once it is 1/8 full (growth is at
    // 1/2, so a load that hovers does not resize back and forth).
    if (this.#size * 8 < values.length && values.length > this.#initialCapacity) {
      this.#resize(values.length / 2);
    }
    return value;
  }

  /**
   * The longest run of occupied slots: what a take may shift through and a miss may walk (the
   * tests hold it short for any seqs).
   */
  longestRun(): number {
    const values = this.#values;
    const capacity = values.length;
    let longest = 0;
    let run = 0;
    // Twice round, so a run that wraps past the last slot is counted whole.
    for (let i = 0; i < 2 * capacity && longest < capacity; i++) {
      run = values[i & this.#mask] === undefined ? 0 : run + 1;
      if (run > longest) longest = run;
    }
    return longest;
  }

  /** A snapshot of the values, in ascending seq order. */
  values(): T[] {
    const keys = this.#keys;
    const values = this.#values;
    const slots: number[] = [];
    for (let slot = 0; slot < values.length; slot++) {
      if (values[slot] !== undefined) slots.push(slot);
    }
    slots.sort((a, b) => keys[a]! - keys[b]!);
    return slots.map((slot) => values[slot]!);
  }

  clear(): void {
    this.#values.fill(undefined);
    this.#size = 0;
  }
}
