/**
 * `onAbort` (dial, reader.waitFor, shutdown): one listener per signal however many operations
 * wait on it; callbacks run in the order they began waiting; one stopped by another meanwhile is
 * skipped; one that throws does not stop the others, and its error surfaces on its own.
 */
import { getEventListeners } from 'node:events';
import { nextTickThrows } from '@netpoll/jest-config/process-events';
import { onAbort } from '../src/abort';

describe('onAbort', () => {
  it('runs callbacks in order, skips one stopped meanwhile, and outlives one that throws', () => {
    const controller = new AbortController();
    const seen: string[] = [];
    let stopC = (): void => {};
    onAbort(controller.signal, () => {
      seen.push('a');
      stopC();
    });
    onAbort(controller.signal, () => {
      seen.push('b');
      throw new Error('b failed');
    });
    stopC = onAbort(controller.signal, () => seen.push('c'));
    const same = () => seen.push('d');
    onAbort(controller.signal, same);
    onAbort(controller.signal, same); // registered twice: called twice
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    const thrown = nextTickThrows(() => controller.abort());
    expect(seen).toEqual(['a', 'b', 'd', 'd']);
    expect(thrown).toEqual([new Error('b failed')]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('calls back at once for a signal aborted already, and listens to nothing for null', () => {
    const seen: string[] = [];
    const stop = onAbort(AbortSignal.abort(), () => seen.push('now'));
    expect(seen).toEqual(['now']);
    stop();
    onAbort(null, () => seen.push('never'))();
    expect(seen).toEqual(['now']);
  });

  it('takes the listener off with the last stop', () => {
    const controller = new AbortController();
    const stops = [onAbort(controller.signal, () => {}), onAbort(controller.signal, () => {})];
    stops[0]!();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    stops[1]!();
    stops[1]!(); // twice: nothing more to remove
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
