// A suite that fails mid-test with a @netpoll/core listener open, for fd-leak-watchdog.native.test.ts
// (which runs it in a jest of its own; its name does not match the package's testMatch). With
// NETPOLL_FIXTURE_CLEANUP=1 it registers the listener's cleanup with afterTest first, as the
// real-socket tests do. Uses the built dist/ (the package's public API).
const { afterTest } = require('@netpoll/jest-config/cleanup');
const { createListener, EventLoop } = require('../../dist/index.js');

test('fails an assertion while serving a listener', async () => {
  const loop = new EventLoop(null);
  const listener = createListener('tcp', '127.0.0.1:0');
  const served = loop.serve(listener);
  if (process.env.NETPOLL_FIXTURE_CLEANUP === '1') {
    afterTest(async () => {
      await loop.shutdown({ timeout: 1000 });
      await served;
    });
  }
  await loop.whenAccepting(listener);
  expect('broken on purpose').toBe('what the test expected');
});
