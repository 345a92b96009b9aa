/**
 * The per-tick flush queue: connections that wrote during a tick are flushed once each, after the
 * synchronous code and the microtasks queued before the first of them, by one drain.
 */
import { type QueuedFlush, queueFlush } from '../src/flush-queue';

function target(name: string, log: string[], onFlush?: () => void): QueuedFlush {
  return {
    flushQueued() {
      log.push(name);
      onFlush?.();
    },
  };
}

describe('queueFlush', () => {
  it('flushes every queued connection once, in order, after the synchronous code', async () => {
    const log: string[] = [];
    queueFlush(target('a', log));
    queueFlush(target('b', log));
    log.push('sync');
    await Promise.resolve(); // the drain was queued first, so it has run by now
    expect(log).toEqual(['sync', 'a', 'b']);
    // A later tick gets a drain of its own.
    queueFlush(target('c', log));
    await Promise.resolve();
    expect(log).toEqual(['sync', 'a', 'b', 'c']);
  });

  it('reaches a connection queued while the queue drains, in the same drain', async () => {
    const log: string[] = [];
    const late = target('late', log);
    queueFlush(target('first', log, () => queueFlush(late)));
    await Promise.resolve();
    expect(log).toEqual(['first', 'late']);
  });

  it('flushes the others when one throws, and reports the error as a warning', async () => {
    const log: string[] = [];
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      queueFlush(
        target('bad', log, () => {
          throw new Error('flush failed');
        }),
      );
      queueFlush(target('good', log));
      await Promise.resolve();
      expect(log).toEqual(['bad', 'good']);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]![0]).toBe('a queued flush failed: flush failed');
      expect(warn.mock.calls[0]![1]).toMatchObject({ type: 'NetpollRpcWarning' });
      // The queue is usable afterwards.
      queueFlush(target('after', log));
      await Promise.resolve();
      expect(log).toEqual(['bad', 'good', 'after']);
    } finally {
      warn.mockRestore();
    }
  });

  it('flushes the others and stays usable when a flush throws a value with no string form', async () => {
    const log: string[] = [];
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const thrown = Object.create(null); // String(thrown) throws a TypeError
      queueFlush(
        target('bad', log, () => {
          throw thrown;
        }),
      );
      queueFlush(target('good', log));
      await Promise.resolve();
      expect(log).toEqual(['bad', 'good']);
      expect(warn).toHaveBeenCalledTimes(1);
      queueFlush(target('after', log));
      await Promise.resolve();
      expect(log).toEqual(['bad', 'good', 'after']);
    } finally {
      warn.mockRestore();
    }
  });
});
