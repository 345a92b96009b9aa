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

module.exports = { turn, until };
