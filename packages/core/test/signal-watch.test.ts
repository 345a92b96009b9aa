/**
 * One abort listener per signal for the watchers of it (`watchSignal`, abort.ts): they are aborted
 * in the order they started watching; one another unwatches meanwhile is skipped; one that throws
 * does not stop the others, and its error surfaces on its own.
 */
import { getEventListeners } from 'node:events';
import { nextTickThrows } from '@netpoll/jest-config/process-events';
import { unwatchSignal, watchSignal } from '../src';

function watcher(name: string, seen: string[], body?: () => void) {
  return {
    abortedBy(signal: AbortSignal) {
      seen.push(`${name}:${String(signal.reason)}`);
      body?.();
    },
  };
}

describe('watchSignal', () => {
  it('aborts watchers in order, skips one unwatched meanwhile, and outlives one that throws', () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const c = watcher('c', seen);
    const a = watcher('a', seen, () => unwatchSignal(controller.signal, c));
    const b = watcher('b', seen, () => {
      throw new Error('b failed');
    });
    const d = watcher('d', seen);
    for (const each of [a, b, c, d]) watchSignal(controller.signal, each);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    const thrown = nextTickThrows(() => controller.abort('stop'));
    expect(seen).toEqual(['a:stop', 'b:stop', 'd:stop']);
    expect(thrown).toEqual([new Error('b failed')]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('removes the listener with the last watcher, and adds it again for a new one', () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const a = watcher('a', seen);
    const b = watcher('b', seen);
    watchSignal(controller.signal, a);
    watchSignal(controller.signal, b);
    unwatchSignal(controller.signal, a);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    unwatchSignal(controller.signal, b);
    unwatchSignal(controller.signal, b); // twice: nothing more to remove
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    watchSignal(controller.signal, a);
    controller.abort('late');
    expect(seen).toEqual(['a:late']);
  });
});
