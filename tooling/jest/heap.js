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

/** Measurements `retainedThroughScavenges` takes at most, to find three clean ones. */
const kMaxAttempts = 12;

/**
 * How many bytes of what `run()` allocates and drops are still used after two scavenges, once a
 * full GC has promoted what `warm()` built (it runs before and after that GC, so the structure
 * under test is old and busy). A structure that keeps dropped objects reachable from its old
 * parts (V8's `Map` and `Set` tables do) shows them here, every time.
 *
 * The least of three clean measurements. V8's own old-space allocations (what concurrent
 * compilation installs, feedback for new code) can land inside one, by about 340 KB in a CI run
 * under load; a structure that keeps what it dropped keeps it in all three. A measurement in
 * which V8 ran a mark-compact of its own (it frees what `warm()` left, tens of MB, and the
 * figure goes far below zero) is not clean: it is taken again, up to `kMaxAttempts` times in all.
 */
function retainedThroughScavenges(warm, run) {
  let least = Number.POSITIVE_INFINITY;
  let clean = 0;
  const seen = new Set();
  for (let attempt = 0; attempt < kMaxAttempts && clean < 3; attempt++) {
    warm();
    collectGarbage('major');
    warm();
    collectGarbage('minor');
    collectGarbage('minor');
    const profiler = new GCProfiler();
    profiler.start();
    let retained;
    let statistics;
    try {
      const before = youngAndOldBytes();
      run();
      collectGarbage('minor');
      collectGarbage('minor');
      retained = youngAndOldBytes() - before;
    } finally {
      statistics = profiler.stop().statistics;
    }
    for (const event of statistics) seen.add(event.gcType);
    if (statistics.some((event) => event.gcType === 'MarkSweepCompact')) continue;
    clean++;
    least = Math.min(least, retained);
  }
  if (clean < 3) {
    throw new Error(
      `only ${clean} of ${kMaxAttempts} measurements ran no mark-compact (GCs seen: ${[...seen].join(', ')})`,
    );
  }
  return least;
}

module.exports = { collectGarbage, retainedThroughScavenges, youngAndOldBytes };
