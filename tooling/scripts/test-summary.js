#!/usr/bin/env node

/**
 * Reads a turbo/jest log on stdin and prints one plain line,
 * `N passed, N failed` (plus `, N skipped` when any were skipped), summed over
 * every jest run in the log (and every line in jest's `Tests: ... total` form that
 * .ci/run writes for the native suites). Exits 1 when the log holds no such line
 * at all, so a run that executed no test cannot pass silently.
 */
let log = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  log += chunk;
});
process.stdin.on('end', () => {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let runs = 0;
  for (const match of log.matchAll(/Tests:\s+([^\n]*\d+ total)/g)) {
    runs += 1;
    const count = (word) => Number((match[1].match(new RegExp(`(\\d+) ${word}`)) ?? [0, 0])[1]);
    passed += count('passed');
    failed += count('failed');
    skipped += count('skipped') + count('todo');
  }
  // NETPOLL_CI_STATUS: the exit status of the jobs; a failed job with no failed test still fails.
  if (Number(process.env.NETPOLL_CI_STATUS ?? 0) !== 0 && failed === 0) failed = 1;
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(runs > 0 ? 0 : 1);
});
