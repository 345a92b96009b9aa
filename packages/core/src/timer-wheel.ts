/**
 * One coarse timer per reactor for every read, write and dial timeout (DESIGN.md §3 "Timers"),
 * instead of one Node timer per connection.
 *
 * A hashed wheel: `kSlots` buckets of `tickMs` each. A target is put in the bucket of its deadline;
 * when the wheel reaches that bucket, targets whose deadline has passed get `onTimer(now)`, the
 * others (deadlines more than one turn away) wait for the next turn. Targets keep their own
 * deadlines, so cancelling is just clearing the field (the wheel skips them lazily).
 *
 *   slot:   0     1     2   …   511
 *          [ ]  [a,b]  [ ]      [c]      cursor → advances one slot per tick
 */

/** Something with deadlines. `onTimer` re-schedules itself if it still has a later deadline. */
export interface TimerTarget {
  onTimer(now: number): void;
}

const kSlots = 512;

/** Monotonic milliseconds. */
export function monotonicNow(): number {
  return performance.now();
}

export class TimerWheel {
  readonly #tickMs: number;
  readonly #slots: Array<Map<TimerTarget, number>> = [];
  #cursorTick = 0;
  #count = 0;
  #timer: NodeJS.Timeout | null = null;
  readonly #now: () => number;

  /**
   * @param tickMs resolution in ms: a timeout fires between its deadline and one tick later.
   * @param now clock in ms (injectable for tests); default `performance.now()`.
   */
  constructor(tickMs = 10, now: () => number = monotonicNow) {
    this.#tickMs = tickMs;
    this.#now = now;
    for (let i = 0; i < kSlots; i++) this.#slots.push(new Map());
  }

  /** Number of scheduled entries (including lazily cancelled ones). */
  get size(): number {
    return this.#count;
  }

  /** Calls `target.onTimer()` at or after `deadline` (ms, same clock as `now`). */
  schedule(target: TimerTarget, deadline: number): void {
    if (this.#timer === null) this.#cursorTick = Math.floor(this.#now() / this.#tickMs);
    const tick = Math.max(Math.ceil(deadline / this.#tickMs), this.#cursorTick);
    const slot = this.#slots[tick % kSlots]!;
    const previous = slot.get(target);
    if (previous === undefined) this.#count++;
    if (previous === undefined || previous > deadline) slot.set(target, deadline);
    if (this.#timer === null) this.#arm();
  }

  /** Stops the Node timer and drops every entry. */
  clear(): void {
    for (const slot of this.#slots) slot.clear();
    this.#count = 0;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #arm(): void {
    this.#timer = setTimeout(() => this.#advance(), this.#tickMs);
    // Timeouts never keep the process alive by themselves; open sockets do.
    this.#timer.unref();
  }

  #advance(): void {
    this.#timer = null;
    const now = this.#now();
    const target = Math.floor(now / this.#tickMs);
    // Visit at most one full turn of slots; later deadlines stay for the next turn.
    const last = Math.min(target, this.#cursorTick + kSlots);
    for (let tick = this.#cursorTick; tick <= last; tick++) {
      const slot = this.#slots[tick % kSlots]!;
      if (slot.size === 0) continue;
      for (const [entry, deadline] of slot) {
        if (deadline > now) continue;
        slot.delete(entry);
        this.#count--;
        entry.onTimer(now);
      }
    }
    this.#cursorTick = target;
    if (this.#count > 0) {
      this.#timer = setTimeout(() => this.#advance(), this.#tickMs);
      this.#timer.unref();
    }
  }
}
