/**
 * Process-wide events a test may need to see: the warnings Node emits (MaxListenersExceededWarning
 * and the like), and errors code rethrows on their own with `process.nextTick`, as EventTarget
 * does for a listener that throws.
 */
const { afterTest } = require('./cleanup');

/**
 * The warnings the process emits from now until the end of the current test (the array fills
 * as they come; Node emits them on the next tick).
 *
 * @returns {Error[]}
 */
function collectWarnings() {
  /** @type {Error[]} */
  const warnings = [];
  const onWarning = (/** @type {Error} */ warning) => warnings.push(warning);
  process.on('warning', onWarning);
  afterTest(() => process.off('warning', onWarning));
  return warnings;
}

/**
 * Runs `run` with `process.nextTick` calling its callbacks at once, and returns what they threw
 * (instead of letting it reach the process as an uncaught exception).
 *
 * @param {() => void} run
 * @returns {unknown[]}
 */
function nextTickThrows(run) {
  /** @type {unknown[]} */
  const thrown = [];
  const nextTick = process.nextTick;
  process.nextTick = (callback, ...args) => {
    try {
      callback(...args);
    } catch (error) {
      thrown.push(error);
    }
  };
  try {
    run();
  } finally {
    process.nextTick = nextTick;
  }
  return thrown;
}

module.exports = { collectWarnings, nextTickThrows };
