/** Per-test (and per-hook) time limit the configuration sets, in ms. */
export const kTestTimeoutMs: number;

/** The jest configuration every workspace package uses (see index.js). */
export function createJestConfig(
  rootDir: string,
  overrides?: Record<string, unknown>,
): Record<string, unknown>;

/** The codes in the first column of `<packageDir>/README.md`'s `## Errors` table. */
export function readmeErrorCodes(packageDir: string): string[];
