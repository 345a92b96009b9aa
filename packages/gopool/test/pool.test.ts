import {
  ctxGo,
  getDefaultPool,
  getPool,
  go,
  kDefaultPoolName,
  Pool,
  registerPool,
  setCap,
  setPanicHandler,
  unregisterPool,
  workerCount,
} from '../src';

/** A promise plus its resolver, to drive async tasks step by step. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Lets every queued microtask and promise job run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('Pool', () => {
  it('starts tasks in a microtask after go() returns, not inside the call', async () => {
    const pool = new Pool('p');
    const order: string[] = [];
    pool.go(() => {
      order.push('task');
    });
    order.push('after go');
    await settle();
    expect(order).toEqual(['after go', 'task']);
  });

  it('starts a worker for the first submission and returns to 0 workers when idle', async () => {
    const pool = new Pool('p', { cap: 1 });
    const gate = deferred();
    pool.go(() => gate.promise);
    expect(pool.workerCount()).toBe(1);
    await settle();
    expect(pool.workerCount()).toBe(1);
    gate.resolve();
    await settle();
    expect(pool.workerCount()).toBe(0);
  });

  it('runs at most cap tasks at once; the rest wait in FIFO order and all eventually run', async () => {
    const pool = new Pool('p', { cap: 2 });
    const gates = [deferred(), deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    gates.forEach((gate, i) => {
      pool.go(async () => {
        started.push(i);
        await gate.promise;
      });
    });
    await settle();
    expect(started).toEqual([0, 1]);
    expect(pool.workerCount()).toBe(2);
    expect(pool.stats().queued).toBe(3);
    gates[1]!.resolve();
    await settle();
    expect(started).toEqual([0, 1, 2]);
    for (const gate of gates) gate.resolve();
    await settle();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(pool.workerCount()).toBe(0);
    expect(pool.stats()).toEqual({ workers: 0, queued: 0, completed: 5, panicked: 0, aborted: 0 });
  });

  it('calls the panic handler with the error and the ctx for a throwing and a rejecting task, then carries on', async () => {
    const calls: [unknown, unknown][] = [];
    const pool = new Pool('p', { cap: 1 });
    pool.setPanicHandler((error, ctx) => calls.push([error, ctx]));
    const thrown = new Error('sync');
    const rejected = new Error('async');
    const ran: string[] = [];
    pool.ctxGo('ctx-1', () => {
      throw thrown;
    });
    pool.ctxGo({ id: 2 }, async () => {
      throw rejected;
    });
    pool.go(() => {
      ran.push('after');
    });
    await settle();
    expect(calls).toEqual([
      [thrown, 'ctx-1'],
      [rejected, { id: 2 }],
    ]);
    expect(ran).toEqual(['after']);
    expect(pool.stats().panicked).toBe(2);
    expect(pool.stats().completed).toBe(1);
  });

  it('passes the ctx to the task', async () => {
    const pool = new Pool('p');
    const seen: unknown[] = [];
    pool.ctxGo(7, (ctx) => {
      seen.push(ctx);
    });
    await settle();
    expect(seen).toEqual([7]);
  });

  it('reports a failure exactly once as a process warning naming the pool when no handler is set', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const pool = new Pool('named-pool');
      pool.go(() => {
        throw new Error('kaput');
      });
      await settle();
      expect(warn).toHaveBeenCalledTimes(1);
      const [message, options] = warn.mock.calls[0]! as unknown as [string, { code: string }];
      expect(message).toBe('GOPOOL: panic in pool: named-pool: kaput');
      expect(options.code).toBe('NETPOLL_GOPOOL_PANIC');
    } finally {
      warn.mockRestore();
    }
  });

  it('sends the report to the logger option instead of a warning', async () => {
    const logged: unknown[][] = [];
    const pool = new Pool('logged', {
      logger: (message, error, ctx) => logged.push([message, error, ctx]),
    });
    pool.ctxGo('c', () => Promise.reject('plain value'));
    await settle();
    expect(logged).toEqual([['GOPOOL: panic in pool: logged: plain value', 'plain value', 'c']]);
  });

  it('reports an error thrown by the panic handler itself and keeps running tasks', async () => {
    const logged: string[] = [];
    const pool = new Pool('p', { cap: 1, logger: (message) => logged.push(message) });
    pool.setPanicHandler(() => {
      throw new Error('handler broke');
    });
    let ran = false;
    pool.go(() => {
      throw new Error('first');
    });
    pool.go(() => {
      ran = true;
    });
    await settle();
    expect(logged).toEqual(['GOPOOL: panic handler threw: p: handler broke']);
    expect(ran).toBe(true);
  });

  it('keeps running tasks whatever a failure looks like: a value String() refuses, a logger that throws, a then that throws', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const plain = new Pool('plain', { cap: 1 });
      const broken = new Pool('broken', {
        cap: 1,
        logger: () => {
          throw new Error('logger broke');
        },
      });
      const handled: string[] = [];
      const thenable = new Pool('thenable', {
        cap: 1,
        panicHandler: (error) => handled.push((error as Error).message),
      });
      let ran = 0;
      plain.go(async () => {
        throw Object.create(null);
      });
      plain.go(() => {
        ran++;
      });
      broken.go(() => {
        throw new Error('task');
      });
      broken.go(() => {
        ran++;
      });
      thenable.go(() => ({
        // biome-ignore lint/suspicious/noThenProperty: a hand-made thenable is what this test is about
        then() {
          throw new Error('then threw');
        },
      }));
      thenable.go(() => {
        ran++;
      });
      await settle();
      await settle();
      expect(ran).toBe(3);
      for (const pool of [plain, broken, thenable]) {
        expect(pool.stats()).toMatchObject({ workers: 0, queued: 0, completed: 1, panicked: 1 });
      }
      expect(handled).toEqual(['then threw']);
      const messages = warn.mock.calls.map((call) => call[0]);
      expect(messages).toContain(
        'GOPOOL: panic in pool: plain: a value that cannot be shown as text',
      );
      expect(messages).toContain('GOPOOL: logger threw: broken: logger broke');
      expect(messages).toContain('GOPOOL: panic in pool: broken: task');
    } finally {
      warn.mockRestore();
    }
  });

  it('does not run a ctxGo task whose AbortSignal fired before it started, and counts it', async () => {
    const pool = new Pool('p', { cap: 1 });
    const gate = deferred();
    const handler = jest.fn();
    pool.setPanicHandler(handler);
    pool.go(() => gate.promise);
    const controller = new AbortController();
    let ran = false;
    pool.ctxGo(controller.signal, () => {
      ran = true;
    });
    controller.abort();
    gate.resolve();
    await settle();
    expect(ran).toBe(false);
    expect(handler).not.toHaveBeenCalled();
    expect(pool.stats().aborted).toBe(1);
  });

  it('throws ERR_NETPOLL_GOPOOL_QUEUE_FULL when cap tasks run and maxQueue wait', async () => {
    const pool = new Pool('p', { cap: 1, maxQueue: 1 });
    const gate = deferred();
    pool.go(() => gate.promise);
    pool.go(() => undefined);
    let caught: unknown;
    try {
      pool.go(() => undefined);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'ERR_NETPOLL_GOPOOL_QUEUE_FULL' });
    gate.resolve();
    await settle();
    expect(pool.stats().completed).toBe(2);
  });

  it('applies a raised cap to the next submission and a lowered one as tasks finish', async () => {
    const pool = new Pool('p', { cap: 1 });
    const gates = [deferred(), deferred(), deferred()];
    const started: number[] = [];
    for (let i = 0; i < 3; i++) {
      pool.go(async () => {
        started.push(i);
        await gates[i]!.promise;
      });
    }
    await settle();
    expect(started).toEqual([0]);
    pool.setCap(3);
    expect(pool.cap).toBe(3);
    pool.go(() => undefined);
    await settle();
    expect(pool.workerCount()).toBe(2);
    for (const gate of gates) gate.resolve();
    await settle();
    expect(started).toEqual([0, 1, 2]);
    expect(pool.workerCount()).toBe(0);
  });

  it('rejects a non-function task, a bad cap and a bad handler with argument errors', () => {
    const pool = new Pool('p');
    expect(() => pool.go(42 as never)).toThrow(
      expect.objectContaining({
        code: 'ERR_NETPOLL_INVALID_ARG',
        message: 'task must be a function (received 42)',
      }),
    );
    expect(() => pool.ctxGo(1, 'x' as never)).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_INVALID_ARG' }),
    );
    expect(() => pool.setCap(0)).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_OUT_OF_RANGE' }),
    );
    expect(() => pool.setCap(1.5)).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_OUT_OF_RANGE' }),
    );
    expect(() => pool.setPanicHandler(1 as never)).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_INVALID_ARG' }),
    );
    expect(() => new Pool('')).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_INVALID_ARG' }),
    );
  });
});

describe('default pool and registry', () => {
  it('runs go/ctxGo on the default pool and reports its worker count', async () => {
    const seen: unknown[] = [];
    const gate = deferred();
    go(() => gate.promise);
    ctxGo('ctx', (ctx) => {
      seen.push(ctx);
    });
    expect(workerCount()).toBe(2);
    gate.resolve();
    await settle();
    expect(seen).toEqual(['ctx']);
    expect(workerCount()).toBe(0);
    expect(getDefaultPool().name).toBe(kDefaultPoolName);
  });

  it('routes default-pool failures to setPanicHandler and applies setCap', async () => {
    const calls: unknown[] = [];
    setPanicHandler((error, ctx) => calls.push([(error as Error).message, ctx]));
    try {
      ctxGo('c', () => {
        throw new Error('x');
      });
      await settle();
      expect(calls).toEqual([['x', 'c']]);
      setCap(5);
      expect(getDefaultPool().cap).toBe(5);
    } finally {
      setPanicHandler(undefined);
      setCap(2147483647);
    }
  });

  it('registers named pools, finds them by name and rejects a duplicate name', () => {
    const pool = new Pool('registered');
    registerPool(pool);
    try {
      expect(getPool('registered')).toBe(pool);
      expect(getPool('missing')).toBeUndefined();
      expect(() => registerPool(new Pool('registered'))).toThrow(
        expect.objectContaining({ code: 'ERR_NETPOLL_GOPOOL_DUPLICATE_POOL' }),
      );
      expect(() => registerPool({} as never)).toThrow(
        expect.objectContaining({ code: 'ERR_NETPOLL_INVALID_ARG' }),
      );
    } finally {
      expect(unregisterPool('registered')).toBe(true);
    }
    expect(getPool('registered')).toBeUndefined();
  });
});
