/**
 * The wire protocol between a `WorkerPool` and its worker threads: record layouts in the
 * rings, status codes and the few `postMessage` shapes used off the fast path. Shared by
 * both ends; nothing here is public API.
 *
 * Request record (event loop → worker), 8-byte aligned:
 * ```
 *  +0 u32 record length   +4 u32 task id   +8 u16 function index   +10 u8 flags   +11 u8 0
 *  +12 u32 slot (echoed back)
 *  +16 [u32 length + UTF-8 export name, when flags & kHasName] tagged task value
 * ```
 * Response record (worker → event loop):
 * ```
 *  +0 u32 record length   +4 u32 task id   +8 u16 slot   +10 u8 status   +11 u8 0
 *  +12 tagged value
 * ```
 */

/** Offset of the task value (or of the name) in a request record. */
export const kRequestHeader = 16;
/** Offset of the value in a response record. */
export const kResponseHeader = 12;

/** Request flag: the export name follows the header (first use of this index on this thread). */
export const kHasName = 1;
/** Request flag: the caller passed an `AbortSignal`; the task function gets one too. */
export const kHasSignal = 2;

/** Response status codes. */
export const Status = {
  /** The task returned or resolved; the value is its result. */
  ok: 0,
  /** The task threw or rejected; the value is what it threw. */
  thrown: 1,
  /** The module has no function under that export name; the value is the name. */
  noExport: 2,
  /** The result could not be encoded; the value is the encoder's error message. */
  dataClone: 3,
} as const;

/** Data a worker thread starts with (its `workerData`). */
export interface WorkerInit {
  readonly channel: SharedArrayBuffer;
  readonly poolCtrl: SharedArrayBuffer;
  readonly ringSize: number;
  readonly filename: string;
  /** How long the thread checks for new tasks after publishing results (ms; 0: never). */
  readonly lingerMs: number;
  /**
   * One Uint32 per task slot: the id of the task handed over in it, another value once that
   * task was aborted or timed out. A thread runs a task only while its slot still shows its id.
   */
  readonly live: SharedArrayBuffer;
}

/**
 * What a task's `WorkerInit.live` word becomes once the thread claimed the task or the pool
 * revoked it (one compare-exchange from `id` each, so exactly one side wins): half the id space
 * away, a value no task still in a ring can have (ids wrap at 2^32).
 */
export function takenMark(id: number): number {
  return (id + 0x80000000) >>> 0;
}

/**
 * A task sent by `postMessage`. Too large for the ring: `encoded` holds its encoded value
 * (the same encoding as the ring, so values arrive exactly as they would through it).
 * With a transfer list: `value` is structured-cloned and the list transferred. Holding shared
 * memory: `value` is structured-cloned, which shares it.
 */
export interface TaskMessage {
  readonly type: 'task';
  readonly id: number;
  readonly slot: number;
  readonly index: number;
  readonly name: string;
  readonly value: unknown;
  /** The encoded value (from offset 0), transferred; set instead of `value`. */
  readonly encoded: ArrayBuffer | undefined;
  readonly hasSignal: boolean;
}

/**
 * Tells the worker that a task it is running with a signal was aborted or timed out (one not
 * started yet is skipped through `WorkerInit.live`).
 */
export interface CancelMessage {
  readonly type: 'cancel';
  readonly id: number;
}

/**
 * A result sent by `postMessage`. Too large for the ring: `encoded` holds it in the ring's
 * encoding (transferred), or `value` is a message string for the `dataClone` status. Holding
 * shared memory: `value` is the result (or what was thrown), structured-cloned.
 */
export interface ResultMessage {
  readonly type: 'result';
  readonly id: number;
  readonly slot: number;
  readonly status: number;
  readonly value: unknown;
  /** The encoded value (from offset 0), transferred; set instead of `value`. */
  readonly encoded: ArrayBuffer | undefined;
}

/** The task module failed to load; the thread stays idle until the pool terminates it. */
export interface LoadErrorMessage {
  readonly type: 'load-error';
  readonly error: unknown;
  /** The error's own enumerable properties (structured clone drops them from errors). */
  readonly props: Record<string, unknown> | undefined;
}

/** The task module loaded; the thread is running its cycle. */
export interface ReadyMessage {
  readonly type: 'ready';
}

/** Messages a worker thread posts to the event loop. */
export type WorkerMessage = ResultMessage | LoadErrorMessage | ReadyMessage;

/** Copies `length` bytes from the start of `source` to `target` at `offset`; small copies skip the `set()` call. */
export function copyRecord(
  source: Uint8Array,
  target: Uint8Array,
  offset: number,
  length: number,
): void {
  if (length <= 64) {
    for (let i = 0; i < length; i++) target[offset + i] = source[i]!;
  } else {
    target.set(source.subarray(0, length), offset);
  }
}
