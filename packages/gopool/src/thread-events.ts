/**
 * What happens to tasks when something other than a result arrives: an abort, a timeout, a
 * message from a thread (a large result, start-up news), or a thread's exit. Internal to
 * `WorkerPool`; works on the `Scheduler`'s books.
 */
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { Decoder } from './decoder';
import {
  AbortError,
  moduleLoadError,
  taskTimeoutError,
  workerCrashedError,
  workerExitedError,
} from './errors';
import { kIdle, PoolState, type PoolTask, TaskState } from './pool-task';
import { Status, type WorkerMessage } from './protocol';
import type { Scheduler } from './scheduler';
import type { WorkerHandle } from './worker-handle';

/** The task's signal fired: reject it; a thread that has it is told, and the slot is reused. */
export function onAbort(scheduler: Scheduler, task: PoolTask): void {
  // Its timeout fired first: the pending kill decides (a result, or TASK_TIMEOUT and a kill).
  if (task.expiring) return;
  const handle = task.handle;
  // Before settling, which frees the task's slot for the next task.
  if (task.state === TaskState.handed && handle !== null) handle.cancel(task);
  scheduler.settle(task, new AbortError(undefined, { cause: task.signal!.reason }), false);
  scheduler.pump();
}

/**
 * The task's timeout fired. Waiting tasks are just rejected; a started one is rejected and
 * its thread terminated, the only way to stop synchronous code (its unstarted tasks are
 * re-queued when it exits, see {@link onExit}).
 */
export function onTimeout(scheduler: Scheduler, task: PoolTask, timeout: number): void {
  task.timer = undefined;
  const handle = task.handle;
  if (task.state === TaskState.handed && handle !== null) {
    handle.drain(scheduler.onResult); // It may have finished in the meantime.
    if (task.state === TaskState.done) return;
    if (!handle.revoke(task)) {
      // Started (the thread claimed it). Its result may be on its way by message (shared
      // memory, or too large for the ring), which the poll phase delivers after this timer:
      // look once more before killing it. Meanwhile the thread gets no new tasks, and an
      // abort does not pre-empt the kill.
      task.expiring = true;
      handle.expiring++;
      setImmediate(() => {
        handle.expiring--;
        if (task.state !== TaskState.done) handle.drain(scheduler.onResult);
        if (task.state !== TaskState.done) {
          const error = taskTimeoutError(timeout);
          scheduler.settle(task, error, false);
          handle.terminate(error);
        }
        if (scheduler.state !== PoolState.destroyed) scheduler.pump();
      });
      return;
    }
  }
  scheduler.settle(task, taskTimeoutError(timeout), false);
  scheduler.pump();
}

/** A thread posted a message: a result too large for the ring, "ready", or a load failure. */
export function onMessage(
  scheduler: Scheduler,
  handle: WorkerHandle,
  message: WorkerMessage,
): void {
  if (message.type === 'result') {
    const task = handle.inflight.get(message.slot, message.id);
    if (task !== undefined) {
      let { status, value } = message;
      if (message.encoded !== undefined) {
        try {
          value = new Decoder(Buffer.from(message.encoded)).value();
        } catch (error) {
          status = Status.thrown;
          value = error;
        }
      }
      scheduler.onResult(task, status, value);
    }
    scheduler.pump();
  } else if (message.type === 'ready') {
    handle.ready = true;
  } else {
    const error = message.error;
    if (message.props !== undefined && error !== null && typeof error === 'object') {
      Object.assign(error, message.props);
    }
    handle.loadError = error;
    const filename = scheduler.options.filename;
    handle.terminate(moduleLoadError(`The task module ${filename} failed to load`, error));
  }
}

/**
 * A thread exited. Results it published still count; tasks it had not taken are re-queued
 * (never run twice); tasks it had started reject with a crash, exit or load error; and it
 * is replaced unless the task module cannot load.
 */
export function onExit(scheduler: Scheduler, handle: WorkerHandle, exitCode: number): void {
  handle.accepting = false;
  clearTimeout(handle.idleTimer);
  handle.drain(scheduler.onResult);
  scheduler.handles.splice(scheduler.handles.indexOf(handle), 1);
  if (handle.inflight.size > 0) handle.busyTotal += performance.now() - handle.busySince;
  scheduler.busyTotal += handle.busyTotal;
  handle.exited = true;
  if (
    !handle.ready &&
    handle.loadError === undefined &&
    (handle.error !== undefined || handle.terminateCause === undefined)
  ) {
    // It died (or exited: `process.exit()` in the module) before the task module was loaded,
    // without the pool terminating it: treat it like a load failure, not respawn in a loop.
    handle.loadError =
      handle.error ?? new Error(`the thread exited with code ${exitCode} while loading the module`);
    handle.terminateCause = moduleLoadError('The worker thread failed to start', handle.loadError);
  }
  const failed = handle.loadError !== undefined;
  const cause = typeof handle.terminateCause === 'symbol' ? undefined : handle.terminateCause;
  const requeue: PoolTask[] = [];
  let reported = false;
  for (const task of handle.inflight.values()) {
    if (failed) scheduler.settle(task, cause, false);
    else if (!handle.started(task)) requeue.push(task);
    else if (handle.error !== undefined) {
      scheduler.settle(task, workerCrashedError(handle.threadId, handle.error), false);
      reported = true;
    } else scheduler.settle(task, workerExitedError(handle.threadId, exitCode, cause), false);
  }
  for (let i = requeue.length - 1; i >= 0; i--) {
    const task = requeue[i]!;
    handle.inflight.delete(task);
    scheduler.inFlight--;
    task.state = TaskState.queued;
    task.handle = null;
    scheduler.queue.unshift(task);
    scheduler.queued++;
  }
  if (failed) {
    // Every thread would fail the same way: fail the queue instead of respawning in a loop.
    for (let task = scheduler.queue.shift(); task !== undefined; task = scheduler.queue.shift()) {
      scheduler.settle(task, cause, false);
    }
  } else if (handle.error !== undefined && !reported) {
    // No task received the error, so it would otherwise be lost.
    process.emitWarning(`WorkerPool thread ${handle.threadId} crashed: ${String(handle.error)}`, {
      code: 'NETPOLL_GOPOOL_WORKER_CRASHED',
    });
  }
  // Keep minThreads, except after a thread crashed soon after it started: a module that
  // keeps crashing would otherwise respawn in a hot loop. Tasks still start threads on demand.
  const crashedEarly = handle.error !== undefined && performance.now() - handle.startedAt < 1000;
  if (scheduler.state === PoolState.open && !failed && !crashedEarly) {
    while (scheduler.accepting() < scheduler.options.minThreads) scheduler.spawn();
  }
  if (scheduler.state !== PoolState.destroyed) scheduler.pump();
  scheduler.maybeEnd();
}

/**
 * Runs in the check phase after threads emptied: unreferences idle threads (so that an idle
 * pool does not keep the process alive) and arms the idle timers of those above minThreads.
 */
export function sweepIdle(scheduler: Scheduler): void {
  scheduler.sweepScheduled = false;
  const { minThreads, idleTimeout } = scheduler.options;
  for (const handle of scheduler.handles) {
    if (handle.inflight.size > 0 || !handle.accepting) continue;
    if (handle.referenced) {
      handle.referenced = false;
      handle.worker.unref();
    }
    if (
      scheduler.state === PoolState.open &&
      handle.idleTimer === undefined &&
      scheduler.accepting() > minThreads &&
      idleTimeout !== Number.POSITIVE_INFINITY
    ) {
      handle.idleTimer = setTimeout(() => {
        handle.idleTimer = undefined;
        if (handle.inflight.size === 0 && scheduler.accepting() > minThreads)
          handle.terminate(kIdle);
      }, idleTimeout);
      handle.idleTimer.unref();
    }
  }
}
