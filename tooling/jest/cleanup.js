/**
 * Cleanup that runs after every test, whether it passed, failed an assertion half-way or timed
 * out: a test registers how to close what it opened (listener, loop, connection, socket, server,
 * worker, child process) right when it opens it, so nothing is left keeping jest alive.
 *
 * Importing this module adds one `afterEach` hook to the importing test file (each test file has
 * its own module registry, so its own list). Import it at the top level of a test file or of a
 * helper module the test file imports at its top level.
 */

const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

/** @type {Array<() => unknown>} */
const pending = [];

/**
 * Runs `close` after the current test (newest first). A `close` that throws or rejects fails
 * that test's cleanup; the others still run.
 *
 * @param {() => unknown} close
 */
function afterTest(close) {
  pending.push(close);
}

/**
 * Closes `resource` (anything with `close()`: a connection, a listener) after the current test;
 * returns it. `close()` must be idempotent, as the test may have closed it already.
 *
 * @template {{ close(): unknown }} T
 * @param {T} resource
 * @returns {T}
 */
function closeAfterTest(resource) {
  afterTest(() => resource.close());
  return resource;
}

/**
 * Destroys `socket` (anything with `destroy()`: a node:net socket) after the current test;
 * returns it.
 *
 * @template {{ destroy(): unknown }} T
 * @param {T} socket
 * @returns {T}
 */
function destroyAfterTest(socket) {
  afterTest(() => socket.destroy());
  return socket;
}

/**
 * A fresh private folder in the OS temp directory (for Unix socket paths and the like), removed
 * with everything in it after the current test; returns its path.
 *
 * @param {string} prefix
 * @returns {string}
 */
function tempDirAfterTest(prefix) {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  afterTest(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

afterEach(async () => {
  const errors = [];
  while (pending.length > 0) {
    const close = pending.pop();
    try {
      await close();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} cleanups failed`);
});

module.exports = { afterTest, closeAfterTest, destroyAfterTest, tempDirAfterTest };
