/**
 * For tests that show what the garbage collector can free: V8's `gc()` (exposed on demand) and
 * the bytes used in the young and old generations.
 */
const { GCProfiler, getHeapSpaceStatistics, setFlagsFromString } = require('node:v8');
const { runInNewContext } = require('node:vm');

let gc = null;

/** Runs a minor (scavenge) or major (full) garbage collection now. */
function collectGarbage(type) {
  if (gc === null) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc');
  }
  gc({ type });
}

/** Bytes used in new space and old space. */
function youngAndOldBytes() {
  let used = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_name === 'new_space' || space.space_name === 'old_space') {
      used += space.space_used_size;
    }
  }
  return used;
}

/**
 * How many bytes of what `run()` allocates and drops are still used after two scavenges, once a
 * full GC has promoted what `warm()` built (it runs before and after that GC, so the structure
 * under test is old and busy). A structure that keeps dropped objects reachable from its old
 * parts (V8's `Map` and `Set` tables do) shows them here, every time.
 *
 * The least of three clean measurements. V8's own old-space allocations (what concurrent
 * compilation installs, feedback for new code) can land inside one, by about 340 KB in a CI run
 * under load; a structure that keeps what it dropped keeps it in all three. A measurement in
 * which V8 ran anything but scavenges (a mark-compact it started on its own frees what `warm()`
 * left, tens of MB) is not clean: it is taken again, up to 12 times in all.
 */
function retainedThroughScavenges(warm, run) {
  let least = Number.POSITIVE_INFINITY;
  let clean = 0;
  for (let attempt = 0; attempt < 12 && clean < 3; attempt++) {
    warm();
    collectGarbage('major');
    warm();
    collectGarbage('minor');
    collectGarbage('minor');
    const profiler = new GCProfiler();
    profiler.start();
    const before = youngAndOldBytes();
    run();
    collectGarbage('minor');
    collectGarbage('minor');
    const retained = youngAndOldBytes() - before;
    const { statistics } = profiler.stop();
    if (!statistics.every((event) => event.gcType === 'Scavenge')) continue;
    clean++;
    least = Math.min(least, retained);
  }
  if (clean === 0) throw new Error('every measurement ran a full GC: none is clean');
  return least;
}

module.exports = { collectGarbage, retainedThroughScavenges, youngAndOldBytes };
