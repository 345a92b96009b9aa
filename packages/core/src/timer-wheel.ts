/**
 * One coarse timer per reactor for every read, write and dial timeout,
 * instead of one Node timer per connection.
 *
 * A hashed wheel: `kSlots` buckets of `tickMs` each. A target is put in the bucket of its deadline;
 * when the wheel reaches that bucket, targets whose deadline has passed get `onTimer(now)`, the
 * others (deadlines more than one turn away) wait for the next turn. A target has at most one
 * entry, at its earliest deadline; it keeps its own deadlines and re-schedules itself from
 * `onTimer` when a later one is left. `cancel()` removes an entry at once (a finished dial, a
 * closed connection); an entry whose deadline merely became void is skipped by its target when
 * it fires.
 *
 *   slot:   0     1     2   …   511
 *          [ ]  [a,b]  [ ]      [c]      cursor → advances one slot per tick
 */

/**
 * Something with deadlines. `onTimer` re-schedules itself if it still has a later deadline. The
 * other fields belong to the wheel: start them at -1, -1, 0.
 */
export interface TimerTarget extends Slotted {
  onTimer(now: number): void;
  /** The tick of its entry, -1 while it has none. */
  timerTick: number;
  /** The deadline of its entry (ms). */
  timerDue: number;
}

import { performance } from 'node:perf_hooks';
import { SlotList, type Slotted } from './slot-list';

const kSlots = 512;
/**
 * The furthest ahead an entry is kept, in ms (about 49.7 days; timeouts are at most 2^31 − 1 ms).
 * A later, infinite or NaN deadline — a caller's bug — is visited at this horizon instead, and
 * the target re-schedules itself there if its own deadline is still ahead.
 */
const kHorizonMs = 2 ** 32;

/**
 * Monotonic milliseconds. From `node:perf_hooks`: the global `performance` is an accessor on
 * `globalThis`, which V8 does not inline.
 */
export function monotonicNow(): number {
  return performance.now();
}

export class TimerWheel {
  readonly #tickMs: number;
  readonly #horizonTicks: number;
  readonly #slots: SlotList<TimerTarget>[] = [];
  #size = 0;
  #cursorTick = 0;
  #timer: NodeJS.Timeout | null = null;
  readonly #now: () => number;

  /**
   * @param tickMs resolution in ms: a timeout fires between its deadline and one tick later.
   * @param now clock in ms (injectable for tests); default `performance.now()`.
   */
  constructor(tickMs = 10, now: () => number = monotonicNow) {
    this.#tickMs = tickMs;
    this.#horizonTicks = Math.ceil(kHorizonMs / tickMs);
    this.#now = now;
    for (let i = 0; i < kSlots; i++) this.#slots.push(new SlotList());
  }

  /** Number of scheduled targets. */
  get size(): number {
    return this.#size;
  }

  /**
   * Calls `target.onTimer()` at or after `deadline` (ms, same clock as `now`). A target already
   * scheduled keeps the earlier of its two deadlines. Never throws: a deadline past the horizon,
   * `Infinity` or `NaN` is visited at the horizon; a past or `-Infinity` one at the next tick.
   */
  schedule(target: TimerTarget, deadline: number): void {
    if (this.#timer === null) this.#cursorTick = Math.floor(this.#now() / this.#tickMs);
    const horizonTick = this.#cursorTick + this.#horizonTicks;
    let due = deadline;
    let tick = Math.ceil(deadline / this.#tickMs);
    if (!(tick <= horizonTick)) {
      // NaN, +Infinity or absurdly far: come back at the horizon.
      tick = horizonTick;
      due = horizonTick * this.#tickMs;
    } else if (tick < this.#cursorTick) {
      tick = this.#cursorTick;
    }
    if (target.timerTick >= 0) {
      if (target.timerDue <= due) return;
      this.#remove(target);
    }
    target.timerTick = tick;
    target.timerDue = due;
    this.#slots[tick % kSlots]!.add(target);
    this.#size++;
    if (this.#timer === null) this.#arm();
  }

  /** Removes `target`'s entry, if any; the Node timer stops when none is left. */
  cancel(target: TimerTarget): void {
    if (target.timerTick < 0) return;
    this.#remove(target);
    if (this.#size === 0 && this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  /** Takes a scheduled target's entry out of its bucket. */
  #remove(target: TimerTarget): void {
    this.#slots[target.timerTick % kSlots]!.delete(target);
    target.timerTick = -1;
    this.#size--;
  }

  /** Stops the Node timer and drops every entry. */
  clear(): void {
    for (const slot of this.#slots) {
      for (const target of slot.values()) target.timerTick = -1;
      slot.clear();
    }
    this.#size = 0;
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
    let failure: { error: unknown } | null = null;
    for (let tick = this.#cursorTick; tick <= last; tick++) {
      const slot = this.#slots[tick % kSlots]!;
      if (slot.size === 0) continue;
      // A snapshot first: a target's onTimer may schedule or cancel others here.
      for (const entry of slot.values()) {
        // Not due yet (a later turn), or cancelled or moved meanwhile.
        if (entry.timerTick < 0 || entry.timerDue > now) continue;
        this.#remove(entry);
        try {
          entry.onTimer(now);
        } catch (error) {
          // A throwing target (user code it calls) must not stop the others or the wheel.
          failure ??= { error };
        }
      }
    }
    this.#cursorTick = target;
    if (this.#size > 0 && this.#timer === null) this.#arm();
    if (failure !== null) throw failure.error;
  }
}
