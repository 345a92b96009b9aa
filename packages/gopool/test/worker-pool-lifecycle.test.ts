/**
 * WorkerPool aborts and timeouts from the caller's side, the queue limit, close(), destroy(),
 * Symbol.asyncDispose, idle threads, and run() options.
 */
import { getEventListeners } from 'node:events';
import { collectWarnings } from '@netpoll/jest-config/process-events';
import { expectAbortError, makePool } from './helpers/pools';
import { rejection, waitFor } from './helpers/wait';

jest.setTimeout(30_000);

describe('WorkerPool: aborts and timeouts', () => {
  it('rejects at once with an AbortError (cause = reason) for an already-aborted signal, starting nothing', async () => {
    const pool = makePool();
    const signal = AbortSignal.abort('early');
    const error = await rejection(pool.run('early', { name: 'waitForAbort', signal }));
    expectAbortError(error, 'early');
    expect(pool.stats().inFlight).toBe(0);
    expect(pool.queueSize).toBe(0);
    expect(await pool.run<string[]>(null, { name: 'waitingKeys' })).not.toContain('early');
  });

  it('removes an aborted task from the queue and rejects it with an AbortError', async () => {
    const pool = makePool({ concurrentTasksPerWorker: 1 });
    const blocker = pool.run('blocker', { name: 'waitForAbort' });
    blocker.catch(() => undefined);
    const controller = new AbortController();
    const queued = pool.run({ a: 1, b: 1 }, { signal: controller.signal });
    expect(pool.queueSize).toBe(1);
    const reason = new Error('not needed');
    controller.abort(reason);
    expectAbortError(await rejection(queued), reason);
    expect(pool.queueSize).toBe(0);
  });

  it('rejects a running task with an AbortError and fires its in-thread signal with one', async () => {
    const pool = makePool();
    const controller = new AbortController();
    const running = pool.run('k1', { name: 'waitForAbort', signal: controller.signal });
    await waitFor(async () =>
      (await pool.run<string[]>(null, { name: 'waitingKeys' })).includes('k1'),
    );
    controller.abort('stop');
    expectAbortError(await rejection(running), 'stop');
    await waitFor(async () =>
      (await pool.run<string[]>(null, { name: 'abortedKeys' })).includes('k1:AbortError:ABORT_ERR'),
    );
  });

  it('keeps one listener on a signal shared by many tasks, and aborts them all in order', async () => {
    const warnings = collectWarnings();
    const pool = makePool({ concurrentTasksPerWorker: 1 });
    const controller = new AbortController();
    // Two that finish (the listener goes with the last watcher), then 20 aborted in the turn they
    // were submitted in, before any result can come back.
    expect(await pool.run({ a: 1, b: 2 }, { signal: controller.signal })).toBe(3);
    expect(await pool.run({ a: 2, b: 2 }, { signal: controller.signal })).toBe(4);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    const order: number[] = [];
    const tasks = Array.from({ length: 20 }, (_, i) =>
      rejection(pool.run({ a: i, b: 0 }, { signal: controller.signal })).then((error) => {
        order.push(i);
        return error;
      }),
    );
    // A listener per task would pass Node's limit of 10 and print MaxListenersExceededWarning.
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort('enough');
    for (const error of await Promise.all(tasks)) expectAbortError(error, 'enough');
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.map((warning) => warning.name)).toEqual([]);
  });

  it('times out a queued task with ERR_NETPOLL_GOPOOL_TASK_TIMEOUT (timeout: true)', async () => {
    const pool = makePool({ concurrentTasksPerWorker: 1 });
    pool.run('blocker', { name: 'waitForAbort' }).catch(() => undefined);
    const error = await rejection(pool.run({ a: 1, b: 1 }, { timeout: 50 }));
    expect(error.code).toBe('ERR_NETPOLL_GOPOOL_TASK_TIMEOUT');
    expect(error.timeout).toBe(true);
    expect(pool.queueSize).toBe(0);
  });

  it('times out a task sent by message that the thread has not taken yet without terminating the thread', async () => {
    const pool = makePool({ concurrentTasksPerWorker: 4, taskTimeout: 0 });
    const before = await pool.run(null, { name: 'threadId' });
    // The thread is busy for 3 s in a task with no timeout; the next one travels by message
    // (it has a transfer list) and waits in the thread's message queue past its timeout (the
    // 3 s leave room for a stalled test process between the two runs).
    const busy = pool.run(3000, { name: 'spinThreadId' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const input = Buffer.from('late');
    const late = pool.run<Buffer>(input, {
      name: 'bytes',
      transferList: [input.buffer],
      timeout: 100,
    });
    expect((await rejection(late)).code).toBe('ERR_NETPOLL_GOPOOL_TASK_TIMEOUT');
    // The busy task was not cut (its thread was not terminated for the one it had not taken).
    expect(await busy).toBe(before);
    expect(await pool.run(null, { name: 'threadId' })).toBe(before);
  });

  it('terminates and replaces a thread stuck in a task past its timeout; unstarted tasks run elsewhere', async () => {
    const pool = makePool({ concurrentTasksPerWorker: 4, taskTimeout: 0 });
    const before = await pool.run(null, { name: 'threadId' });
    const stuck = pool.run(null, { name: 'forever', timeout: 200 });
    const behind = pool.run('behind', { name: 'echo' });
    const error = await rejection(stuck);
    expect(error.code).toBe('ERR_NETPOLL_GOPOOL_TASK_TIMEOUT');
    await expect(behind).resolves.toBe('behind');
    expect(await pool.run(null, { name: 'threadId' })).not.toBe(before);
  });

  it('rejects the other started tasks of a timed-out thread with ERR_NETPOLL_GOPOOL_WORKER_EXITED (cause = the timeout)', async () => {
    const pool = makePool({ concurrentTasksPerWorker: 4, taskTimeout: 300 });
    const first = pool.run('t1', { name: 'waitForAbort', timeout: 100 });
    const second = pool.run('t2', { name: 'waitForAbort' });
    expect((await rejection(first)).code).toBe('ERR_NETPOLL_GOPOOL_TASK_TIMEOUT');
    const error = await rejection(second);
    expect(['ERR_NETPOLL_GOPOOL_WORKER_EXITED', 'ERR_NETPOLL_GOPOOL_TASK_TIMEOUT']).toContain(
      error.code,
    );
    if (error.code === 'ERR_NETPOLL_GOPOOL_WORKER_EXITED') {
      expect((error.cause as { code: string }).code).toBe('ERR_NETPOLL_GOPOOL_TASK_TIMEOUT');
    }
  });
});

describe('WorkerPool: queue limit and lifecycle', () => {
  it('rejects with ERR_NETPOLL_GOPOOL_QUEUE_FULL once maxQueue tasks wait', async () => {
    const pool = makePool({ concurrentTasksPerWorker: 1, maxQueue: 2 });
    const held = [
      pool.run('blocker', { name: 'waitForAbort' }),
      pool.run({ a: 1, b: 1 }),
      pool.run({ a: 1, b: 2 }),
    ];
    for (const promise of held) promise.catch(() => undefined);
    const error = await rejection(pool.run({ a: 1, b: 3 }));
    expect(error.code).toBe('ERR_NETPOLL_GOPOOL_QUEUE_FULL');
    expect(pool.queueSize).toBe(2);
  });

  it('close() lets queued and running tasks finish, then ends every thread; run() then rejects', async () => {
    const pool = makePool({ minThreads: 2, maxThreads: 2, concurrentTasksPerWorker: 2 });
    const work = Array.from({ length: 20 }, (_, i) =>
      pool.run<number>(2, { name: 'spin' }).then(() => i),
    );
    const closed = pool.close();
    expect((await rejection(pool.run(1))).code).toBe('ERR_NETPOLL_CLOSED');
    await expect(Promise.all(work)).resolves.toEqual(Array.from({ length: 20 }, (_, i) => i));
    await closed;
    expect(pool.threads).toBe(0);
    expect(pool.close()).toBe(closed);
    expect(pool[Symbol.asyncDispose]()).toBe(closed);
  });

  it('[Symbol.asyncDispose]() closes gracefully: running and queued tasks finish, then the threads end', async () => {
    const pool = makePool({ concurrentTasksPerWorker: 1 });
    const running = pool.run<number>(20, { name: 'spin' });
    const queued = pool.run({ a: 2, b: 3 });
    expect(pool.queueSize).toBe(1);
    const disposed = pool[Symbol.asyncDispose]();
    expect((await rejection(pool.run(1))).code).toBe('ERR_NETPOLL_CLOSED');
    await expect(Promise.all([running, queued])).resolves.toEqual([20, 5]);
    await expect(disposed).resolves.toBeUndefined();
    expect(pool.threads).toBe(0);
    expect(pool.close()).toBe(disposed);
  });

  it('destroy() rejects queued and running tasks with ERR_NETPOLL_CLOSED, or with the given error', async () => {
    const pool = makePool({ concurrentTasksPerWorker: 1 });
    const running = rejection(pool.run('r', { name: 'waitForAbort' }));
    const queued = rejection(pool.run({ a: 1, b: 1 }));
    await pool.destroy();
    expect((await running).code).toBe('ERR_NETPOLL_CLOSED');
    expect((await queued).code).toBe('ERR_NETPOLL_CLOSED');
    expect(pool.threads).toBe(0);

    const other = makePool();
    const pending = rejection(other.run('r', { name: 'waitForAbort' }));
    const reason = new Error('shutting down');
    await other.destroy(reason);
    expect(await pending).toBe(reason);
  });

  it('lets a thread above minThreads exit after idleTimeout', async () => {
    const pool = makePool({ minThreads: 0, maxThreads: 1, idleTimeout: 0 });
    await expect(pool.run({ a: 1, b: 1 })).resolves.toBe(2);
    await waitFor(() => pool.threads === 0);
    await expect(pool.run({ a: 2, b: 2 })).resolves.toBe(4);
  });

  it('rejects bad run() options with argument errors', async () => {
    const pool = makePool();
    expect((await rejection(pool.run(1, { name: '' }))).code).toBe('ERR_NETPOLL_INVALID_ARG');
    expect((await rejection(pool.run(1, { signal: {} as AbortSignal }))).code).toBe(
      'ERR_NETPOLL_INVALID_ARG',
    );
    expect((await rejection(pool.run(1, { transferList: 1 as never }))).code).toBe(
      'ERR_NETPOLL_INVALID_ARG',
    );
    expect((await rejection(pool.run(1, { timeout: -1 }))).code).toBe('ERR_NETPOLL_OUT_OF_RANGE');
    expect((await rejection(pool.run(1, null as never))).code).toBe('ERR_NETPOLL_INVALID_ARG');
  });

  it('rejects run() options with a key that is not an option, naming the close one', async () => {
    const pool = makePool();
    const error = await rejection(pool.run(1, { name: 'echo', timeOut: 5 } as never));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.code).toBe('ERR_NETPOLL_INVALID_ARG');
    expect(error.message).toBe('options.timeOut is not a known option (did you mean timeout?)');
    expect((await rejection(pool.run(1, { priority: 1 } as never))).message).toBe(
      'options.priority is not a known option',
    );
    expect(pool.stats().inFlight).toBe(0);
  });
});
