/**
 * Command-line flag checks shared by the apps' commands (`cli.js serve`, apps/bench's `main.js`
 * and `loadgen.js`). Each throws an error whose message names the flag, what it accepts and what
 * it received; the commands print it with their usage and exit 2.
 */

/**
 * True when `text` is a decimal integer from `min` to `max` (digits only: no sign, fraction,
 * exponent or hex).
 */
export function isIntegerText(text: string, min: number, max: number): boolean {
  const value = Number(text);
  return /^\d+$/.test(text) && Number.isSafeInteger(value) && value >= min && value <= max;
}

/** Parses `text` as {@link isIntegerText} accepts it. Throws a RangeError otherwise. */
export function parseIntegerFlag(text: string, flag: string, min: number, max: number): number {
  if (!isIntegerText(text, min, max)) {
    throw new RangeError(`${flag} must be an integer from ${min} to ${max} (received ${text})`);
  }
  return Number(text);
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

/**
 * `argv` with a negative number after a flag joined to it (`--timeout -5` → `--timeout=-5`).
 * `util.parseArgs` refuses a value that starts with `-` as ambiguous, with a message that names
 * neither the range nor the value; joined, the value reaches the flag's own check, which does.
 */
export function joinNegativeValues(argv: readonly string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (arg.startsWith('--') && !arg.includes('=') && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}
