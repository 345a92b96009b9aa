/**
 * Command-line flag checks shared by the apps' commands (`cli.js serve`, apps/bench's `main.js`
 * and `loadgen.js`). Each throws an error whose message names the flag, what it accepts and what
 * it received; the commands print it with their usage and exit 2.
 */

/**
 * Parses `text` as a decimal integer from `min` to `max` (digits only: no sign, fraction,
 * exponent or hex). Throws a RangeError otherwise.
 */
export function parseIntegerFlag(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${flag} must be an integer from ${min} to ${max} (received ${text})`);
  }
  return value;
}

/** Returns `text` when it is one of `choices`; throws a RangeError naming them otherwise. */
export function parseChoiceFlag<T extends string>(
  text: string,
  flag: string,
  choices: readonly T[],
): T {
  if (!(choices as readonly string[]).includes(text)) {
    throw new RangeError(`${flag} must be one of ${choices.join(', ')} (received ${text})`);
  }
  return text as T;
}

/**
 * Parses a comma-separated list of `choices`, at least one, no repeats. Throws a RangeError
 * naming the flag and the choices otherwise.
 */
export function parseListFlag<T extends string>(
  text: string,
  flag: string,
  choices: readonly T[],
): T[] {
  const items = text.split(',');
  const valid =
    items.every((item) => (choices as readonly string[]).includes(item)) &&
    new Set(items).size === items.length;
  if (!valid) {
    throw new RangeError(
      `${flag} must be a comma-separated list of distinct values from ${choices.join(', ')} (received ${text})`,
    );
  }
  return items as T[];
}

/** True when the arguments ask for help (`--help` or `-h` anywhere). */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}
