const { readdirSync, readlinkSync } = require('node:fs');

/** How long a finished run may take to exit before the watchdog reports and ends it. */
const kDefaultGraceMs = 10_000;

/**
 * A jest reporter that keeps a finished run from hanging: when the jest process is still alive
 * `graceMs` after the run completed, something the tests opened (a listener, a connection, a
 * timer, a worker, a child process) keeps its event loop running. The watchdog then prints what
 * is open — Node's active resources and, on Linux, the process's descriptors by kind (native
 * handles such as @netpoll/core's reactor are not among Node's resources, but their sockets are
 * among the descriptors) — and exits with status 1, so the leak fails the run instead of
 * hanging it.
 *
 * The timer is unref'd: it can only fire while something else keeps the process alive, so a run
 * that exits normally never waits for it. Test files that jest runs in worker processes are
 * not watched here (jest force-exits a worker that does not stop, with a warning); those run in
 * band, in this process, are — and `--runInBand`, or a run of one test file, is where a leak used
 * to hang jest. Watch mode (where staying alive is the point) and `--forceExit` are left alone.
 */
class ExitWatchdog {
  /**
   * @param {import('@jest/types').Config.GlobalConfig} globalConfig
   * @param {{ graceMs?: number }} [options]
   */
  constructor(globalConfig, options = {}) {
    this.globalConfig = globalConfig;
    this.graceMs = options.graceMs ?? kDefaultGraceMs;
  }

  onRunComplete() {
    const { watch, watchAll, forceExit } = this.globalConfig;
    if (watch || watchAll || forceExit) return;
    setTimeout(() => {
      process.stderr.write(`${describeLeak(this.graceMs)}\n`);
      process.exit(1);
    }, this.graceMs).unref();
  }
}

/** The report printed when the process outlived the grace time. */
function describeLeak(graceMs) {
  const lines = [
    `exit watchdog: jest was still running ${graceMs / 1000} s after the test run completed;`,
    'a test left something open that keeps the event loop alive. Failing the run.',
    `  active Node resources: ${
      summarize(process.getActiveResourcesInfo()) ||
      "none (native handles, such as @netpoll/core's reactor while a listener or connection is open, are not listed)"
    }`,
  ];
  const descriptors = openDescriptors();
  if (descriptors !== null) lines.push(`  open descriptors: ${summarize(descriptors)}`);
  lines.push(
    '  Close every listener, loop, connection, socket, worker and child process a test opens in',
    '  afterEach or finally (@netpoll/jest-config/cleanup: afterTest, closeAfterTest, destroyAfterTest).',
  );
  return lines.join('\n');
}

/** Kinds of this process's descriptors (socket, pipe, anon_inode:[eventpoll], file…), Linux only. */
function openDescriptors() {
  if (process.platform !== 'linux') return null;
  const kinds = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      kinds.push(target.startsWith('/') ? 'file' : target.replace(/:\[\d+\]$/, ''));
    } catch {
      // the descriptor readdir itself used is gone by now
    }
  }
  return kinds;
}

/** `['a', 'b', 'a']` → `'a ×2, b'`. */
function summarize(names) {
  const counts = new Map();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return [...counts].map(([name, count]) => (count === 1 ? name : `${name} ×${count}`)).join(', ');
}

module.exports = ExitWatchdog;
module.exports.describeLeak = describeLeak;
