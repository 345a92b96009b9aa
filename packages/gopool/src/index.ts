/**
 * `@netpoll/gopool`: gopool's role in Node. An event-loop task pool (`go`, `ctxGo`, `Pool`)
 * with a concurrency cap and a panic handler, and `WorkerPool`, which runs CPU-heavy tasks
 * on `worker_threads` over SharedArrayBuffer rings.
 */
export {
  InvalidArgumentError,
  isNetpollError,
  kNetpollErrorMarker,
  NetpollError,
  type NetpollErrorLike,
  OutOfRangeError,
} from './errors';
export {
  kDefaultPoolOptions,
  kDefaultWorkerPoolOptions,
  type PanicHandler,
  type PoolLogger,
  type PoolOptions,
  type ResolvedPoolOptions,
  type ResolvedWorkerPoolOptions,
  resolvePoolOptions,
  resolveWorkerPoolOptions,
  type WorkerPoolOptions,
} from './options';
export { type CtxTask, Pool, type PoolStats, type Task } from './pool';
export {
  ctxGo,
  getDefaultPool,
  getPool,
  go,
  kDefaultPoolName,
  registerPool,
  setCap,
  setPanicHandler,
  unregisterPool,
  workerCount,
} from './registry';
export { type RunOptions, WorkerPool, type WorkerPoolStats } from './worker-pool';
