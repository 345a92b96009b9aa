// The task module every pool in the benchmark runs (plain CommonJS, loaded by all three).

/** The tiny task: `a + b`. */
function add({ a, b }) {
  return a + b;
}

module.exports = add;
module.exports.add = add;
/** The payload task: returns the 1 KiB it was given (so bytes cross both ways). */
module.exports.echo = (payload) => payload;
