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
 * parts (V8's `Map` and `Set` tables do) shows them here.
 */
function retainedThroughScavenges(warm, run) {
  warm();
  collectGarbage('major');
  warm();
  collectGarbage('minor');
  collectGarbage('minor');
  const before = youngAndOldBytes();
  run();
  collectGarbage('minor');
  collectGarbage('minor');
  return youngAndOldBytes() - before;
}

module.exports = { collectGarbage, retainedThroughScavenges, youngAndOldBytes };
