/**
 * One abort listener per signal for the tasks watching it (signal-watch.ts): callbacks run in
 * submission order; one unwatched meanwhile is skipped; one that throws does not stop the others,
 * and its error surfaces on its own.
 */
import { getEventListeners } from 'node:events';
import { nextTickThrows } from '@netpoll/jest-config/process-events';
import { unwatchSignal, watchSignal } from '../src/signal-watch';

describe('watchSignal', () => {
  it('runs callbacks in order, skips one unwatched meanwhile, and outlives one that throws', () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const c = () => seen.push('c');
    watchSignal(controller.signal, () => {
      seen.push('a');
      unwatchSignal(controller.signal, c);
    });
    watchSignal(controller.signal, () => {
      seen.push('b');
      throw new Error('b failed');
    });
    watchSignal(controller.signal, c);
    watchSignal(controller.signal, () => seen.push('d'));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    const thrown = nextTickThrows(() => controller.abort());
    expect(seen).toEqual(['a', 'b', 'd']);
    expect(thrown).toEqual([new Error('b failed')]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
