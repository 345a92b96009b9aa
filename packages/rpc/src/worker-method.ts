/**
 * The one-line way to run a CPU-heavy method on `@netpoll/gopool`'s `WorkerPool`, off the
 * reactor thread: `createServer({ hash: workerMethod(pool, 'hash') })`. The request goes to the
 * pool's task named `task` (copied into the pool's shared-memory ring at once, so the request
 * view may die with the call), the call's signal aborts the task when the deadline passes, the
 * client cancels or the connection closes, and the task's result is the response.
 */
import { InvalidArgumentError } from './errors';
import type { CallContext } from './server/call-context';
import type { Handler } from './server/service';

/** What `workerMethod` needs of a pool: `@netpoll/gopool`'s `WorkerPool` has it. */
export interface TaskPool {
  run(value: unknown, options: { name?: string; signal?: AbortSignal }): Promise<unknown>;
}

/** A handler that runs `task` of `pool` with the request and answers its result. */
export function workerMethod<Request = unknown, Response = unknown>(
  pool: TaskPool,
  task: string,
): Handler<Request, Response> {
  if (typeof pool?.run !== 'function') {
    throw new InvalidArgumentError('pool', 'a WorkerPool (an object with run())', pool);
  }
  if (typeof task !== 'string' || task === '') {
    throw new InvalidArgumentError('task', 'the name of a task the pool exports', task);
  }
  return (request: Request, context: CallContext) =>
    pool.run(request, { name: task, signal: context.signal }) as Promise<Response>;
}
