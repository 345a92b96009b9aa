// Fault tests run one at a time (--runInBand): each builds its own hosts and loads the 2-core
// machine; a test's own limit is set where it starts (see src/bounds.ts).
module.exports = require('@netpoll/jest-config').createJestConfig(__dirname);
