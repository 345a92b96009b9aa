/**
 * Builds the jest configuration every workspace package uses: ts-jest over
 * `test/**\/*.test.ts`, type-checking left to the `typecheck` task
 * (`isolatedModules` in tsconfig.test.json makes ts-jest transpile only).
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
    transform: {
      '^.+\\.ts$': [require.resolve('ts-jest'), { tsconfig: '<rootDir>/tsconfig.test.json' }],
    },
    ...overrides,
  };
}

module.exports = {
  createJestConfig,
  readmeErrorCodes: require('./readme-error-codes').readmeErrorCodes,
};
