/**
 * The error of `appendRegion()` for bounds that do not fit its buffer, kept off the method's
 * path. Internal: not re-exported from the package entry point.
 */
import type { Buffer } from 'node:buffer';
import { InvalidArgumentError, OutOfRangeError } from './errors';

/** Throws the coded error for `start`/`end` that are not integers with 0 ≤ start ≤ end ≤ length. */
export function throwRegionBoundsError(buffer: Buffer, start: number, end: number): never {
  if (!Number.isSafeInteger(start)) throw new InvalidArgumentError('start', 'an integer', start);
  if (!Number.isSafeInteger(end)) throw new InvalidArgumentError('end', 'an integer', end);
  if (start < 0 || start > end) {
    throw new OutOfRangeError('start', `an integer from 0 to end = ${end}`, start);
  }
  throw new OutOfRangeError(
    'end',
    `an integer from start to buffer.length = ${buffer.length}`,
    end,
  );
}
