/**
 * For tests that show what the garbage collector can free: V8's `gc()` (exposed on demand) and
 * the bytes used in the young and old generations.
 */
const { getHeapSpaceStatistics, setFlagsFromString } = require('node:v8');
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
 * The least of three measurements: V8's own old-space allocations (what concurrent compilation
 * installs, feedback for new code) can land inside one, and did by about 340 KB in a CI run
 * under load. A structure that keeps what it dropped keeps it in all three.
 */
function retainedThroughScavenges(warm, run) {
  let least = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < 3; attempt++) {
    warm();
    collectGarbage('major');
    warm();
    collectGarbage('minor');
    collectGarbage('minor');
    const before = youngAndOldBytes();
    run();
    collectGarbage('minor');
    collectGarbage('minor');
    least = Math.min(least, youngAndOldBytes() - before);
  }
  return least;
}

module.exports = { collectGarbage, retainedThroughScavenges, youngAndOldBytes };
