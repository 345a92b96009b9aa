// Waiting in worker bodies by loop turns, never by time: a predicate is checked once per turn.

function turn() {
  return new Promise((resolve) => setImmediate(resolve));
}

async function until(predicate, what) {
  for (let i = 0; i < 200000; i++) {
    if (predicate()) return;
    await turn();
  }
  throw new Error(`never happened: ${what}`);
}

/**
 * Resolves once `ready()` has held and the reactor's counters have not moved for 50 loop turns
 * in a row: everything that was going to happen on its own has happened.
 */
async function untilQuiet(stats, ready, what) {
  let last = '';
  let quietTurns = 0;
  await until(() => {
    const now = stats();
    const key = `${now.batches}/${now.reads}/${now.readStalls}/${now.readResumes}/${now.bytesWritten}`;
    quietTurns = key === last && ready() ? quietTurns + 1 : 0;
    last = key;
    return quietTurns >= 50;
  }, what);
}

module.exports = { turn, until, untilQuiet };
