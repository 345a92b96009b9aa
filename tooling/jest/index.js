/** Per-test (and per-hook) time limit: a test that waits for something that never comes fails. */
const kTestTimeoutMs = 30_000;

/**
 * Builds the jest configuration every workspace package uses: ts-jest over
 * `test/**\/*.test.ts`, type-checking left to the `typecheck` task
 * (`isolatedModules` in tsconfig.test.json makes ts-jest transpile only).
 *
 * No run can hang: every test and hook has `testTimeout` (30 s; a suite that legitimately needs
 * longer passes its own limit to `it`/`jest.setTimeout`), and the exit watchdog reporter fails a
 * run whose process is kept alive by something a test left open, after reporting what
 * (see exit-watchdog.js). Tests close what they open with `@netpoll/jest-config/cleanup`.
 *
 * @param {string} rootDir the package folder (pass `__dirname`)
 * @param {import('jest').Config} [overrides] fields that replace the defaults
 * @returns {import('jest').Config}
 */
function createJestConfig(rootDir, overrides = {}) {
  return {
    rootDir,
    testEnvironment: 'node',
    testMatch: ['<rootDir>/test/**/*.test.ts'],
    testTimeout: kTestTimeoutMs,
    reporters: ['default', require.resolve('./exit-watchdog')],
    transform: {
      '^.+\\.ts$': [require.resolve('ts-jest'), { tsconfig: '<rootDir>/tsconfig.test.json' }],
    },
    ...overrides,
  };
}

module.exports = {
  createJestConfig,
  kTestTimeoutMs,
  readmeErrorCodes: require('./readme-error-codes').readmeErrorCodes,
};
