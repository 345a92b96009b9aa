import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  kDefaultPoolOptions,
  kDefaultWorkerPoolOptions,
  Pool,
  resolvePoolOptions,
  resolveWorkerPoolOptions,
  WorkerPool,
} from '../src';

const filename = join(__dirname, 'fixtures', 'tasks.js');

function codeOf(fn: () => unknown): { code?: string; message?: string; name?: string } {
  try {
    fn();
  } catch (error) {
    return error as { code?: string; message?: string };
  }
  throw new Error('expected a throw');
}

describe('resolvePoolOptions', () => {
  it('fills in the frozen defaults', () => {
    expect(resolvePoolOptions(undefined)).toEqual(kDefaultPoolOptions);
    expect(kDefaultPoolOptions).toEqual({
      cap: 2147483647,
      maxQueue: Number.POSITIVE_INFINITY,
      panicHandler: undefined,
      logger: undefined,
    });
    expect(Object.isFrozen(kDefaultPoolOptions)).toBe(true);
    expect(Object.isFrozen(resolvePoolOptions({ cap: 3 }))).toBe(true);
  });

  it('rejects options that are not an object', () => {
    expect(codeOf(() => resolvePoolOptions(5))).toMatchObject({
      code: 'ERR_NETPOLL_INVALID_ARG',
      message: 'options must be an object (received 5)',
    });
  });

  it('rejects a cap that is not a number', () => {
    expect(codeOf(() => resolvePoolOptions({ cap: '1' }))).toMatchObject({
      code: 'ERR_NETPOLL_INVALID_ARG',
      message: 'options.cap must be a number (received "1")',
    });
  });

  it('rejects a cap below 1 or not an integer', () => {
    expect(codeOf(() => resolvePoolOptions({ cap: 0 }))).toMatchObject({
      code: 'ERR_NETPOLL_OUT_OF_RANGE',
      message: 'options.cap must be an integer from 1 to 2147483647 (received 0)',
    });
    expect(codeOf(() => resolvePoolOptions({ cap: 2.5 })).code).toBe('ERR_NETPOLL_OUT_OF_RANGE');
  });

  it('rejects a negative maxQueue and accepts Infinity', () => {
    expect(codeOf(() => resolvePoolOptions({ maxQueue: -1 })).code).toBe(
      'ERR_NETPOLL_OUT_OF_RANGE',
    );
    expect(resolvePoolOptions({ maxQueue: Number.POSITIVE_INFINITY }).maxQueue).toBe(
      Number.POSITIVE_INFINITY,
    );
  });

  it('rejects a panicHandler or logger that is not a function', () => {
    expect(codeOf(() => resolvePoolOptions({ panicHandler: 1 })).code).toBe(
      'ERR_NETPOLL_INVALID_ARG',
    );
    expect(codeOf(() => resolvePoolOptions({ logger: 'x' })).code).toBe('ERR_NETPOLL_INVALID_ARG');
  });

  it('rejects a key that is not an option, naming the close one', () => {
    expect(codeOf(() => resolvePoolOptions({ caps: 3 }))).toMatchObject({
      name: 'TypeError',
      code: 'ERR_NETPOLL_INVALID_ARG',
      message: 'options.caps is not a known option (did you mean cap?)',
    });
    expect(codeOf(() => new Pool('p', { panicHandle: () => 1 } as never)).message).toBe(
      'options.panicHandle is not a known option (did you mean panicHandler?)',
    );
  });

  it('is applied by the Pool constructor', () => {
    expect(codeOf(() => new Pool('p', { cap: -1 })).code).toBe('ERR_NETPOLL_OUT_OF_RANGE');
  });
});

describe('resolveWorkerPoolOptions', () => {
  it('fills in the frozen defaults and turns filename into a file: URL', () => {
    const cpus = Math.max(1, availableParallelism());
    const resolved = resolveWorkerPoolOptions({ filename });
    expect(resolved).toEqual({
      filename: pathToFileURL(filename).href,
      ...kDefaultWorkerPoolOptions,
    });
    expect(kDefaultWorkerPoolOptions).toMatchObject({
      name: 'default',
      minThreads: Math.max(1, Math.floor(cpus / 2)),
      maxThreads: cpus,
      idleTimeout: 5000,
      maxQueue: Number.POSITIVE_INFINITY,
      concurrentTasksPerWorker: 256,
      taskTimeout: 0,
      ringSize: 262144,
      pollTime: 50,
    });
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(Object.isFrozen(kDefaultWorkerPoolOptions)).toBe(true);
  });

  it('requires an options object', () => {
    expect(codeOf(() => resolveWorkerPoolOptions(undefined)).code).toBe('ERR_NETPOLL_INVALID_ARG');
    expect(codeOf(() => resolveWorkerPoolOptions('x')).code).toBe('ERR_NETPOLL_INVALID_ARG');
  });

  it('requires filename to be an absolute path or a file: URL', () => {
    expect(codeOf(() => resolveWorkerPoolOptions({})).message).toBe(
      'options.filename must be an absolute path or a file: URL (received undefined)',
    );
    expect(codeOf(() => resolveWorkerPoolOptions({ filename: 'relative.js' })).code).toBe(
      'ERR_NETPOLL_INVALID_ARG',
    );
    expect(
      codeOf(() => resolveWorkerPoolOptions({ filename: new URL('http://x/y.js') })).code,
    ).toBe('ERR_NETPOLL_INVALID_ARG');
    expect(resolveWorkerPoolOptions({ filename: pathToFileURL(filename) }).filename).toBe(
      pathToFileURL(filename).href,
    );
    expect(resolveWorkerPoolOptions({ filename: pathToFileURL(filename).href }).filename).toBe(
      pathToFileURL(filename).href,
    );
  });

  it('rejects an empty or non-string name', () => {
    expect(codeOf(() => resolveWorkerPoolOptions({ filename, name: '' })).code).toBe(
      'ERR_NETPOLL_INVALID_ARG',
    );
    expect(codeOf(() => resolveWorkerPoolOptions({ filename, name: 3 })).code).toBe(
      'ERR_NETPOLL_INVALID_ARG',
    );
  });

  it('rejects maxThreads below 1', () => {
    expect(codeOf(() => resolveWorkerPoolOptions({ filename, maxThreads: 0 })).code).toBe(
      'ERR_NETPOLL_OUT_OF_RANGE',
    );
  });

  it('rejects a negative minThreads', () => {
    expect(codeOf(() => resolveWorkerPoolOptions({ filename, minThreads: -1 })).code).toBe(
      'ERR_NETPOLL_OUT_OF_RANGE',
    );
  });

  it('rejects minThreads above maxThreads, and caps the default minThreads at maxThreads', () => {
    expect(
      codeOf(() => resolveWorkerPoolOptions({ filename, minThreads: 3, maxThreads: 2 })),
    ).toMatchObject({
      code: 'ERR_NETPOLL_OUT_OF_RANGE',
      message: 'options.minThreads must be at most options.maxThreads (2) (received 3)',
    });
    expect(resolveWorkerPoolOptions({ filename, maxThreads: 1 }).minThreads).toBe(1);
  });

  it('rejects a negative idleTimeout and accepts Infinity', () => {
    expect(codeOf(() => resolveWorkerPoolOptions({ filename, idleTimeout: -5 })).code).toBe(
      'ERR_NETPOLL_OUT_OF_RANGE',
    );
    expect(
      resolveWorkerPoolOptions({ filename, idleTimeout: Number.POSITIVE_INFINITY }).idleTimeout,
    ).toBe(Number.POSITIVE_INFINITY);
  });

  it('rejects a negative or fractional maxQueue', () => {
    expect(codeOf(() => resolveWorkerPoolOptions({ filename, maxQueue: -1 })).code).toBe(
      'ERR_NETPOLL_OUT_OF_RANGE',
    );
    expect(codeOf(() => resolveWorkerPoolOptions({ filename, maxQueue: 0.5 })).code).toBe(
      'ERR_NETPOLL_OUT_OF_RANGE',
    );
  });

  it('rejects concurrentTasksPerWorker below 1', () => {
    expect(
      codeOf(() => resolveWorkerPoolOptions({ filename, concurrentTasksPerWorker: 0 })).code,
    ).toBe('ERR_NETPOLL_OUT_OF_RANGE');
  });

  it('rejects a negative taskTimeout', () => {
    expect(codeOf(() => resolveWorkerPoolOptions({ filename, taskTimeout: -1 })).code).toBe(
      'ERR_NETPOLL_OUT_OF_RANGE',
    );
  });

  it('rejects a ringSize that is out of range or not a power of two', () => {
    expect(codeOf(() => resolveWorkerPoolOptions({ filename, ringSize: 1024 })).code).toBe(
      'ERR_NETPOLL_OUT_OF_RANGE',
    );
    expect(codeOf(() => resolveWorkerPoolOptions({ filename, ringSize: 5000 }))).toMatchObject({
      code: 'ERR_NETPOLL_OUT_OF_RANGE',
      message: 'options.ringSize must be a power of two (received 5000)',
    });
  });

  it('rejects a pollTime outside 0..10000 µs', () => {
    expect(codeOf(() => resolveWorkerPoolOptions({ filename, pollTime: -1 })).code).toBe(
      'ERR_NETPOLL_OUT_OF_RANGE',
    );
    expect(codeOf(() => resolveWorkerPoolOptions({ filename, pollTime: 10_001 })).code).toBe(
      'ERR_NETPOLL_OUT_OF_RANGE',
    );
    expect(resolveWorkerPoolOptions({ filename, pollTime: 0 }).pollTime).toBe(0);
  });

  it('rejects resourceLimits that are not an object or hold a non-positive limit', () => {
    expect(codeOf(() => resolveWorkerPoolOptions({ filename, resourceLimits: 1 })).code).toBe(
      'ERR_NETPOLL_INVALID_ARG',
    );
    expect(
      codeOf(() =>
        resolveWorkerPoolOptions({ filename, resourceLimits: { maxOldGenerationSizeMb: 0 } }),
      ).code,
    ).toBe('ERR_NETPOLL_OUT_OF_RANGE');
    expect(
      resolveWorkerPoolOptions({ filename, resourceLimits: { stackSizeMb: 4 } }).resourceLimits,
    ).toEqual({
      stackSizeMb: 4,
    });
  });

  it('rejects a key that is not an option, naming the close one', () => {
    expect(codeOf(() => resolveWorkerPoolOptions({ filename, maxThread: 2 }))).toMatchObject({
      name: 'TypeError',
      code: 'ERR_NETPOLL_INVALID_ARG',
      message: 'options.maxThread is not a known option (did you mean maxThreads?)',
    });
    expect(codeOf(() => new WorkerPool({ filename, workers: 2 } as never)).message).toBe(
      'options.workers is not a known option',
    );
  });

  it('rejects a resourceLimits key that is not a limit, naming the close one', () => {
    expect(
      codeOf(() => resolveWorkerPoolOptions({ filename, resourceLimits: { stackSize: 4 } })),
    ).toMatchObject({
      code: 'ERR_NETPOLL_INVALID_ARG',
      message: 'options.resourceLimits.stackSize is not a known option (did you mean stackSizeMb?)',
    });
  });

  it('is applied by the WorkerPool constructor before any thread starts', () => {
    expect(codeOf(() => new WorkerPool({ filename, maxThreads: 0 })).code).toBe(
      'ERR_NETPOLL_OUT_OF_RANGE',
    );
  });
});
