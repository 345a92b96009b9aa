/**
 * Pools for the WorkerPool tests: each one made here is destroyed after its test, whether the
 * test passed or not.
 */
import { join } from 'node:path';
import { afterTest } from '@netpoll/jest-config/cleanup';
import { isNetpollError, WorkerPool, type WorkerPoolOptions } from '../../src';

/** The task module of the tests (test/fixtures/tasks.js). */
export const tasks = join(__dirname, '..', 'fixtures', 'tasks.js');

/** A pool of one thread over `tasks` unless `options` say otherwise; destroyed after the test. */
export function makePool(options: Partial<WorkerPoolOptions> = {}): WorkerPool {
  const pool = new WorkerPool({ filename: tasks, minThreads: 1, maxThreads: 1, ...options });
  afterTest(() => pool.destroy());
  return pool;
}

/** 50 rounds of 20 calls of the cheap `name`: the threads' averages become a cheap call's. */
export async function cheapRounds(pool: WorkerPool, name: string): Promise<void> {
  for (let round = 0; round < 50; round++) {
    await Promise.all(Array.from({ length: 20 }, () => pool.run(null, { name })));
  }
}

/** Node's AbortError shape (events.once, timers/promises), plus the netpoll marker. */
export function expectAbortError(error: Record<string, unknown> & Error, reason: unknown): void {
  expect(error).toBeInstanceOf(Error);
  expect(error.name).toBe('AbortError');
  expect(error.code).toBe('ABORT_ERR');
  expect(error.message).toBe('The operation was aborted');
  expect(error.cause).toBe(reason);
  expect(isNetpollError(error)).toBe(true);
}
