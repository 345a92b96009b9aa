/** Waiting by event-loop turns, never by time: a predicate is checked once per turn. */

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Resolves once `predicate()` holds; throws after `limit` turns without it. */
export async function until(
  predicate: () => boolean,
  what: string,
  limit = 100_000,
): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (predicate()) return;
    await turn();
  }
  throw new Error(`condition never became true: ${what}`);
}

/**
 * Resolves once `sample()` has returned the same value for `turns` turns in a row: whatever was
 * going to happen on its own (I/O between in-process peers) has happened.
 */
export async function untilQuiet(sample: () => string, what: string, turns = 50): Promise<void> {
  let last = '';
  let quiet = 0;
  await until(() => {
    const now = sample();
    quiet = now === last ? quiet + 1 : 0;
    last = now;
    return quiet >= turns;
  }, what);
}
