/**
 * Waits until `predicate()` is true, checking every 10 ms. The limit is only a safety net
 * against a hang, never a timing assertion: the predicate is about state, not speed.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  limitMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('waitFor: condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolves with the rejection reason of `promise`; fails if it resolves. */
export async function rejection(
  promise: Promise<unknown>,
): Promise<Record<string, unknown> & Error> {
  try {
    await promise;
  } catch (error) {
    return error as Record<string, unknown> & Error;
  }
  throw new Error('expected a rejection');
}
