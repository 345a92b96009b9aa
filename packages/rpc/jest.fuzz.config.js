// The long property runs of test/fuzz (pnpm fuzz), kept out of `pnpm test`: their length is set
// by NETPOLL_FUZZ_SECONDS, and the tests set their own time limits from it.
module.exports = require('@netpoll/jest-config').createJestConfig(__dirname, {
  testMatch: ['<rootDir>/test/fuzz/**/*.fuzz.ts'],
});
