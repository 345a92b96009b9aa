/**
 * Package-level gopool API: the default pool and the registry of named pools.
 *
 * Design after bytedance/gopkg `util/gopool` (Apache-2.0): `go`, `ctxGo`, `setCap`,
 * `setPanicHandler` and `workerCount` act on one default pool, named `gopool.DefaultPool`,
 * with an effectively unbounded cap; `registerPool`/`getPool` keep a process-wide (per
 * thread) map of named pools. The default pool is created on first use and, as in gopool,
 * is not itself in the registry.
 */
import { duplicatePoolError, InvalidArgumentError } from './errors';
import type { PanicHandler } from './options';
import { type CtxTask, Pool, type Task } from './pool';

/** The default pool's name. */
export const kDefaultPoolName = 'gopool.DefaultPool';

let defaultPool: Pool | undefined;
const pools = new Map<string, Pool>();

/** Returns the default pool (created on first use; cap 2147483647, unbounded queue). */
export function getDefaultPool(): Pool {
  defaultPool ??= new Pool(kDefaultPoolName);
  return defaultPool;
}

/** Runs `task` on the default pool. See {@link Pool.go}. */
export function go(task: Task): void {
  getDefaultPool().go(task);
}

/** Runs `task(ctx)` on the default pool. See {@link Pool.ctxGo}. */
export function ctxGo<C>(ctx: C, task: CtxTask<C>): void {
  getDefaultPool().ctxGo(ctx, task);
}

/** Changes the default pool's cap (gopool warns against it; so do we: prefer your own pool). */
export function setCap(cap: number): void {
  getDefaultPool().setCap(cap);
}

/** Sets the default pool's panic handler. See {@link Pool.setPanicHandler}. */
export function setPanicHandler(handler: PanicHandler | undefined): void {
  getDefaultPool().setPanicHandler(handler);
}

/** Tasks running now in the default pool. */
export function workerCount(): number {
  return defaultPool === undefined ? 0 : defaultPool.workerCount();
}

/**
 * Adds `pool` to the registry under `pool.name`.
 * @throws ERR_NETPOLL_INVALID_ARG unless `pool` is a {@link Pool}.
 * @throws ERR_NETPOLL_GOPOOL_DUPLICATE_POOL when that name is already registered.
 */
export function registerPool(pool: Pool): void {
  if (!(pool instanceof Pool)) throw new InvalidArgumentError('pool', 'a Pool', pool);
  if (pools.has(pool.name)) throw duplicatePoolError(pool.name);
  pools.set(pool.name, pool);
}

/** Returns the registered pool named `name`, or `undefined`. */
export function getPool(name: string): Pool | undefined {
  return pools.get(name);
}

/** Removes the pool named `name` from the registry; returns whether it was there. */
export function unregisterPool(name: string): boolean {
  return pools.delete(name);
}
