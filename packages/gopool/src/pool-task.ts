/**
 * One `WorkerPool.run()` call on its way through the pool. Internal.
 */
import type { TransferListItem } from 'node:worker_threads';
import type { WorkerHandle } from './worker-handle';

/**
 * Where a task is: just submitted, waiting in the pool's queue (counted in `queued`), handed to
 * a thread, or settled.
 */
export const TaskState: {
  readonly created: number;
  readonly queued: number;
  readonly handed: number;
  readonly done: number;
} = { created: 3, queued: 0, handed: 1, done: 2 };

/** A task in flight; its promise settles through `resolve`/`reject` exactly once. */
export class PoolTask {
  state: number = TaskState.created;
  /** The thread it was handed to (state `handed`). */
  handle: WorkerHandle | null = null;
  /** Its slot in the thread's in-flight table (see InflightTable). */
  slot = 0;
  /** Hand-over order within its thread. */
  sequence = 0;
  /** What it was expected to cost its thread when handed over (ns; see InflightTable.costNs). */
  costNs = 0;
  timer: NodeJS.Timeout | undefined = undefined;
  /** Its timeout fired while it ran; the kill waits one setImmediate (see onTimeout). */
  expiring = false;
  onAbort: (() => void) | undefined = undefined;
  resolve!: (value: unknown) => void;
  reject!: (reason: unknown) => void;

  constructor(
    readonly id: number,
    readonly index: number,
    readonly name: string,
    readonly value: unknown,
    readonly transferList: readonly TransferListItem[] | undefined,
    readonly signal: AbortSignal | undefined,
    /** `performance.now()` at `run()`, for the latency histogram. */
    readonly start: number,
  ) {}
}

/** Lifecycle of a `WorkerPool`: open, closing (finishing its work), destroyed. */
export const PoolState: {
  readonly open: number;
  readonly closing: number;
  readonly destroyed: number;
} = {
  open: 0,
  closing: 1,
  destroyed: 2,
};

/** Termination causes that are not errors: an idle thread, and the pool ending. */
export const kIdle: unique symbol = Symbol('idle');
export const kShutdown: unique symbol = Symbol('shutdown');
