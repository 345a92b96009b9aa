/**
 * WorkerPool when tasks go wrong: aborted and timed-out tasks never run late, task errors come
 * back re-created, load and clone failures get their codes, crashed and exiting threads are
 * replaced and their tasks re-queued or rejected.
 */
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { types } from 'node:util';
import { isNetpollError } from '../src';
import { cheapRounds, makePool } from './helpers/pools';
import { rejection, waitFor } from './helpers/wait';

jest.setTimeout(30_000);

describe('WorkerPool: aborted and timed-out tasks', () => {
  it('never runs a task aborted or timed out while it waited in the thread', async () => {
    const pool = makePool();
    // Cheap calls first: the thread's average is then a cheap call's, and the pool hands the
    // tasks below to the thread at once (not knowing what the spin will cost).
    await cheapRounds(pool, 'echo');
    const busy = pool.run(400, { name: 'spin' });
    await delay(20); // the thread is in the spin: what follows waits behind it
    const controller = new AbortController();
    // The first call of 'mark' on the thread: its record carries the export name.
    const aborted = pool.run('aborted', { name: 'mark', signal: controller.signal });
    const timedOut = pool.run('timed out', { name: 'mark', timeout: 100 });
    const memory = new SharedArrayBuffer(8); // by message: shared memory
    const viaPort = pool.run(memory, { name: 'addShared', signal: controller.signal });
    const kept = pool.run('kept', { name: 'mark' });
    await delay(30);
    expect(pool.queueSize).toBe(0); // handed to the thread, not held in the pool's queue
    controller.abort();
    expect((await rejection(aborted)).code).toBe('ABORT_ERR');
    expect((await rejection(viaPort)).code).toBe('ABORT_ERR');
    expect((await rejection(timedOut)).code).toBe('ERR_NETPOLL_GOPOOL_TASK_TIMEOUT');
    await busy;
    await kept;
    await expect(pool.run(null, { name: 'marks' })).resolves.toEqual(['kept']);
    expect([...new Int32Array(memory)]).toEqual([0, 0]);
  });

  it('never runs a task whose timeout fired as the thread was taking it', async () => {
    const pool = makePool({ filename: join(__dirname, 'fixtures', 'slow-decode.js') });
    await cheapRounds(pool, 'echo');
    const busy = pool.run(50, { name: 'spin' });
    // The thread takes it after the spin, then spends 200 ms decoding it: its timeout fires
    // meanwhile. Either side may win that race, never both.
    const timed = pool.run(`SLOW${'x'.repeat(100)}`, { name: 'mark', timeout: 100 });
    expect((await rejection(timed)).code).toBe('ERR_NETPOLL_GOPOOL_TASK_TIMEOUT');
    await busy;
    await delay(300);
    await expect(pool.run(null, { name: 'marks' })).resolves.toEqual([]);
  });

  it('lets the timeout of a started task kill it even when an abort comes right after', async () => {
    const pool = makePool();
    await pool.run(1, { name: 'echo' });
    const controller = new AbortController();
    const task = pool.run(null, { name: 'forever', timeout: 100, signal: controller.signal });
    setTimeout(() => controller.abort(), 100); // due in the same timers phase, after the pool's
    setImmediate(() => {
      const end = Date.now() + 150;
      while (Date.now() < end) {}
    });
    expect((await rejection(task)).code).toBe('ERR_NETPOLL_GOPOOL_TASK_TIMEOUT');
    // The thread that ran it for ever was replaced: the next task runs.
    await expect(pool.run(1, { name: 'echo' })).resolves.toBe(1);
  });

  it('hands nothing to a thread whose started task timed out, while it is being killed', async () => {
    const pool = makePool();
    await pool.run(1, { name: 'echo' });
    const timed = pool.run(null, { name: 'hang', timeout: 100 }); // started; the thread stays free
    // Both timers are due with the pool's, after it: the first submits a task after the
    // timeout fired, before the kill; the second keeps this thread busy meanwhile, while the
    // task's hand-over (a microtask between the two) would reach the thread.
    const later = new Promise<unknown>((resolve) =>
      setTimeout(() => resolve(pool.run(200, { name: 'sleep' }).catch((error) => error.code)), 100),
    );
    setTimeout(() => {
      const end = Date.now() + 30;
      while (Date.now() < end) {}
    }, 100);
    expect((await rejection(timed)).code).toBe('ERR_NETPOLL_GOPOOL_TASK_TIMEOUT');
    await expect(later).resolves.toBe(200);
  });

  it('takes a result that came by message as the timeout fired, and keeps the thread', async () => {
    const pool = makePool();
    const thread = await pool.run(null, { name: 'threadId' });
    const result = pool.run<{ memory: SharedArrayBuffer }>(null, {
      name: 'keepShared',
      timeout: 100,
    });
    // Keep this event loop busy past the timeout (the task takes about a millisecond): the
    // timer and the result's message are then due in the same turn, the timer first.
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        const end = Date.now() + 300;
        while (Date.now() < end) {}
        resolve();
      }),
    );
    expect(types.isSharedArrayBuffer((await result).memory)).toBe(true);
    await expect(pool.run(null, { name: 'threadId' })).resolves.toBe(thread);
  });
});

describe('WorkerPool: task failures', () => {
  it('rejects with the error the task threw, re-created with its name, code and own properties', async () => {
    const pool = makePool();
    const error = await rejection(pool.run('bad input', { name: 'throws' }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('bad input');
    expect(error.code).toBe('E_TASK');
    expect(error.extra).toEqual({ n: 1 });
    expect(String(error.stack)).toContain('tasks.js');
    const rejected = await rejection(pool.run('async bad', { name: 'rejects' }));
    expect(rejected).toBeInstanceOf(RangeError);
    await expect(pool.run(null, { name: 'throwsString' })).rejects.toBe('a plain string');
    await expect(pool.run({ a: 1, b: 1 })).resolves.toBe(2);
  });

  it('rejects with ERR_NETPOLL_GOPOOL_MODULE_LOAD for a missing export or one that is not a function', async () => {
    const pool = makePool();
    const missing = await rejection(pool.run(1, { name: 'nope' }));
    expect(missing.code).toBe('ERR_NETPOLL_GOPOOL_MODULE_LOAD');
    expect(missing.message).toContain("'nope'");
    expect((await rejection(pool.run(1, { name: 'notAFunction' }))).code).toBe(
      'ERR_NETPOLL_GOPOOL_MODULE_LOAD',
    );
    await expect(pool.run({ a: 1, b: 1 })).resolves.toBe(2);
  });

  it('rejects with ERR_NETPOLL_GOPOOL_MODULE_LOAD (cause = the load error) when the module throws while loading', async () => {
    const pool = makePool({
      filename: join(__dirname, 'fixtures', 'load-error.js'),
      minThreads: 0,
    });
    const error = await rejection(pool.run(1));
    expect(error.code).toBe('ERR_NETPOLL_GOPOOL_MODULE_LOAD');
    expect((error.cause as Error).message).toBe('cannot load this module');
    await waitFor(() => pool.threads === 0);
    expect((await rejection(pool.run(2))).code).toBe('ERR_NETPOLL_GOPOOL_MODULE_LOAD');
  });

  it('rejects with ERR_NETPOLL_GOPOOL_MODULE_LOAD, and respawns nothing, when the module calls process.exit() while loading', async () => {
    const pool = makePool({
      filename: join(__dirname, 'fixtures', 'exit-on-load.js'),
      minThreads: 0,
    });
    const error = await rejection(pool.run(1));
    expect(error.code).toBe('ERR_NETPOLL_GOPOOL_MODULE_LOAD');
    expect((error.cause as Error).message).toBe(
      'the thread exited with code 7 while loading the module',
    );
    // Not a thread respawned in a loop (it used to be ~35 a second, and run() never settled).
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(pool.threads).toBe(0);
  });

  it('rejects with ERR_NETPOLL_GOPOOL_MODULE_LOAD when the module file does not exist', async () => {
    const pool = makePool({ filename: join(__dirname, 'fixtures', 'missing.js'), minThreads: 0 });
    const error = await rejection(pool.run(1));
    expect(error.code).toBe('ERR_NETPOLL_GOPOOL_MODULE_LOAD');
    expect((error.cause as { code?: string }).code).toBe('MODULE_NOT_FOUND');
  });

  it('rejects with ERR_NETPOLL_GOPOOL_DATA_CLONE for an uncloneable argument or result', async () => {
    const pool = makePool();
    const argument = await rejection(pool.run(() => 1, { name: 'echo' }));
    expect(argument.code).toBe('ERR_NETPOLL_GOPOOL_DATA_CLONE');
    const result = await rejection(pool.run(null, { name: 'returnsFunction' }));
    expect(result.code).toBe('ERR_NETPOLL_GOPOOL_DATA_CLONE');
    await expect(pool.run({ a: 1, b: 1 })).resolves.toBe(2);
    expect(result.message).toMatch(/^The result of the task cannot be cloned/);
    expect(argument.message).toBe('The task value cannot be cloned');
  });

  it("keeps a thrown error's cloneable properties when one of them is a function", async () => {
    const pool = makePool();
    const error = await rejection(pool.run(null, { name: 'throwsWithFunction' }));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe('with a function');
    expect(error.code).toBe('E_WITH_FUNCTION');
    expect(error.detail).toEqual({ attempts: 3 });
    // What structured clone refuses, or ring bytes cannot share, is left out.
    expect('retry' in error).toBe(false);
    expect('memory' in error).toBe(false);
  });

  it('rejects a result or error whose getter throws undefined, never a wrong value', async () => {
    const pool = makePool();
    await expect(pool.run(0x7eadbeef, { name: 'echo' })).resolves.toBe(0x7eadbeef);
    for (const name of ['throwsUndefinedInResult', 'throwsUndefinedInError']) {
      const error = await rejection(pool.run(null, { name }));
      expect(error.code).toBe('ERR_NETPOLL_GOPOOL_DATA_CLONE');
      expect(error.message).toMatch(/^The result of the task cannot be cloned/);
    }
    await expect(pool.run({ a: 1, b: 2 })).resolves.toBe(3);
  });

  it("keeps a thrown error's own __proto__ key when another field cannot cross", async () => {
    const pool = makePool();
    const error = await rejection(pool.run(null, { name: 'throwsWithProtoKey' }));
    expect(error.message).toBe('proto key');
    expect(Object.getOwnPropertyDescriptor(error, '__proto__')?.value).toEqual({ own: true });
    expect(error).toBeInstanceOf(Error);
    expect('own' in error).toBe(false);
    expect('retry' in error).toBe(false);
  });

  it('keeps running the tasks queued around an uncloneable one', async () => {
    const pool = makePool({ concurrentTasksPerWorker: 1 });
    // With the slot free, this one is rejected as it is handed over, never queued.
    expect((await rejection(pool.run(Symbol('no'), { name: 'echo' }))).code).toBe(
      'ERR_NETPOLL_GOPOOL_DATA_CLONE',
    );
    // Now the first task holds the only slot and the others wait in the pool's queue.
    const busy = pool.run(200, { name: 'spin' });
    const queued = [
      pool.run(1, { name: 'echo' }),
      pool.run(() => 1, { name: 'echo' }), // rejected when it leaves the queue
      pool.run(2, { name: 'echo' }),
      pool.run(3, { name: 'echo' }),
    ];
    await busy;
    const settled = await Promise.race([
      Promise.all(queued.map((task) => task.catch((error) => error.code))),
      delay(3000).then(() => 'not settled within 3 s'),
    ]);
    expect(settled).toEqual([1, 'ERR_NETPOLL_GOPOOL_DATA_CLONE', 2, 3]);
    expect(pool.queueSize).toBe(0);
    await expect(pool.run(4, { name: 'echo' })).resolves.toBe(4);
  });

  it('arms no timeout for a task rejected as uncloneable', async () => {
    const pool = makePool({ taskTimeout: 60_000 });
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout');
    const before = timers().length;
    expect((await rejection(pool.run(Symbol('no'), { name: 'echo' }))).code).toBe(
      'ERR_NETPOLL_GOPOOL_DATA_CLONE',
    );
    expect(timers().length).toBe(before);
  });
});

describe('WorkerPool: crashing and exiting threads', () => {
  it('rejects the task of a crashed thread with ERR_NETPOLL_GOPOOL_WORKER_CRASHED and replaces the thread', async () => {
    const pool = makePool();
    const before = await pool.run(null, { name: 'threadId' });
    const error = await rejection(pool.run(null, { name: 'crash' }));
    expect(error.code).toBe('ERR_NETPOLL_GOPOOL_WORKER_CRASHED');
    expect(isNetpollError(error)).toBe(true);
    expect((error.cause as Error).message).toBe('boom in the thread');
    expect(error.message).toBe(`Worker thread ${before} crashed while running the task`);
    const after = await pool.run(null, { name: 'threadId' });
    expect(after).not.toBe(before);
    expect(pool.threads).toBe(1);
  });

  it('rejects with ERR_NETPOLL_GOPOOL_WORKER_EXITED and the exit code when the thread exits', async () => {
    const pool = makePool();
    const error = await rejection(pool.run(3, { name: 'exit' }));
    expect(error.code).toBe('ERR_NETPOLL_GOPOOL_WORKER_EXITED');
    expect(error.exitCode).toBe(3);
    await expect(pool.run({ a: 1, b: 1 })).resolves.toBe(2);
  });

  it('reports a crash that no task received as a process warning, and does not respawn in a hot loop', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const pool = makePool({ filename: join(__dirname, 'fixtures', 'crash-after-load.js') });
      await waitFor(() => warn.mock.calls.length > 0 && pool.threads === 0);
      const [message, options] = warn.mock.calls[0]! as unknown as [string, { code: string }];
      expect(message).toMatch(/^WorkerPool thread \d+ crashed: Error: background failure$/);
      expect(options.code).toBe('NETPOLL_GOPOOL_WORKER_CRASHED');
    } finally {
      warn.mockRestore();
    }
  });

  it('re-queues the tasks the dead thread had not taken yet, so they run on its replacement', async () => {
    const pool = makePool({ concurrentTasksPerWorker: 8 });
    const exit = pool.run(1, { name: 'exit' });
    const others = [
      pool.run('a', { name: 'echo' }),
      pool.run('b', { name: 'echo' }),
      pool.run('c', { name: 'echo' }),
    ];
    expect((await rejection(exit)).code).toBe('ERR_NETPOLL_GOPOOL_WORKER_EXITED');
    await expect(Promise.all(others)).resolves.toEqual(['a', 'b', 'c']);
  });
});
