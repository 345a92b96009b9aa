/**
 * Refusing option keys that no resolver knows. Without it a typo such as `maxThread` would
 * be ignored and the default used in silence; with it, the error names the key and the known
 * key it most likely meant.
 */
import { InvalidArgumentError } from './errors';

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Throws `ERR_NETPOLL_INVALID_ARG` (a `TypeError`) when `input` has an own enumerable string
 * key that is not in `known`, with the message
 * `${path}.${key} is not a known option (did you mean ${close}?)`, the parenthesis only when
 * a known key is close: equal ignoring case, or else the one at the smallest Levenshtein
 * distance, if that is at most max(2, ⌊key.length / 3⌋) (the first in `known` on a tie).
 * Inherited and symbol keys are not options and are ignored.
 *
 * Cheap when every key is known (one `includes` per key), so it also runs per call.
 */
export function checkKnownKeys(input: object, known: readonly string[], path: string): void {
  for (const key in input) {
    if (known.includes(key) || !hasOwn.call(input, key)) continue;
    const close = closeKey(key, known);
    const hint = close === undefined ? '' : ` (did you mean ${close}?)`;
    throw new InvalidArgumentError(
      `${path}.${key}`,
      'a known option',
      key,
      `${path}.${key} is not a known option${hint}`,
    );
  }
}

function closeKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  for (const candidate of known) if (candidate.toLowerCase() === lower) return candidate;
  let close: string | undefined;
  let best = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const candidate of known) {
    const distance = levenshtein(key, candidate);
    if (distance < best) {
      close = candidate;
      best = distance;
    }
  }
  return close;
}

/** Edits (insert, delete, substitute one UTF-16 unit) that turn `a` into `b`. */
function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitute);
    }
    previous = current;
  }
  return previous[b.length]!;
}
