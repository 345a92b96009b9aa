// Fault tests run one at a time (--runInBand): each builds its own hosts and loads the 2-core
// machine; a test's own limit is passed to its `it` (kFaultTestTimeoutMs in
// test/helpers/fault-test.ts; the soak's from FAULT_SOAK_SECONDS).
module.exports = require('@netpoll/jest-config').createJestConfig(__dirname);
