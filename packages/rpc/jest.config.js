module.exports = require('@netpoll/jest-config').createJestConfig(__dirname);
