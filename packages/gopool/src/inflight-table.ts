/**
 * The tasks one thread holds, in slots: the slot number travels with the task to the thread
 * and back, so finding a task from its result is an array read, not a hash lookup. Internal.
 */
import type { PoolTask } from './pool-task';

/** Tasks handed to one thread, by slot. Owned by the event loop. */
export class InflightTable {
  #slots: (PoolTask | undefined)[] = [];
  readonly #free: number[] = []; // Slots to reuse, most recently freed last.
  #size = 0;
  #sequence = 0; // Hand-over order, to list tasks oldest first.
  #costNs = 0;

  /** Number of tasks held. */
  get size(): number {
    return this.#size;
  }

  /** The thread's backlog: the sum of the held tasks' expected costs (`task.costNs`), in ns. */
  get costNs(): number {
    return this.#costNs;
  }

  /** The slot the next {@link add} will use. */
  nextSlot(): number {
    const free = this.#free;
    return free.length > 0 ? free[free.length - 1]! : this.#slots.length;
  }

  /** Stores `task` in {@link nextSlot} and sets its `slot` and `sequence`. */
  add(task: PoolTask): void {
    const slot = this.#free.length > 0 ? this.#free.pop()! : this.#slots.length;
    this.#slots[slot] = task;
    task.slot = slot;
    task.sequence = this.#sequence++;
    this.#size++;
    this.#costNs += task.costNs;
  }

  /** The task in `slot` if it is the one with `id` (a stale result finds nothing). */
  get(slot: number, id: number): PoolTask | undefined {
    const task = this.#slots[slot];
    return task !== undefined && task.id === id ? task : undefined;
  }

  /** Removes `task`; false when it was not held here. */
  delete(task: PoolTask): boolean {
    if (this.#slots[task.slot] !== task) return false;
    this.#slots[task.slot] = undefined;
    this.#free.push(task.slot);
    this.#size--;
    // Costs are integers, so the sum is exact; an empty table is back at 0 regardless.
    this.#costNs = this.#size === 0 ? 0 : this.#costNs - task.costNs;
    return true;
  }

  /** The tasks held, oldest hand-over first (a copy: safe to delete while iterating). */
  values(): PoolTask[] {
    const tasks: PoolTask[] = [];
    for (const task of this.#slots) if (task !== undefined) tasks.push(task);
    return tasks.sort((a, b) => a.sequence - b.sequence);
  }
}
