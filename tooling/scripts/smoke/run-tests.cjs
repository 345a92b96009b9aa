// The runner and the echo round trip every smoke script shares (smoke.cjs, smoke.mjs, smoke.mts,
// smoke-worker.cjs; release-smoke.js copies this file beside them). Plain CommonJS, so each script
// loads it in its own module format; @netpoll/core is passed in, as each script imported it.

/**
 * A length-header echo server on `core` (a reactor of its own), one client connection, one frame
 * of `text` there and back; resolves to the echoed text once the loop has shut down.
 */
async function echo({ EventLoop, createListener, dialConnection }, text) {
  const loop = new EventLoop(
    (connection) => {
      connection.writer.writeFrom(connection.reader, connection.reader.len());
      connection.writer.flush();
    },
    { framing: { lengthHeader: 4, maxFrameSize: 1 << 20 } },
  );
  const listener = createListener('tcp', '127.0.0.1:0');
  const served = loop.serve(listener);
  const client = await dialConnection('tcp', listener.address, { timeout: 5000 });
  const payload = Buffer.from(text);
  client.writer.writeUint32BE(payload.length);
  client.writer.writeBinary(payload);
  client.writer.flush();
  await client.reader.waitFor(4 + payload.length);
  const echoed = client.reader.readString(client.reader.readUint32BE());
  client.close();
  await loop.shutdown({ timeout: 5000 });
  await served;
  return echoed;
}

/**
 * Runs `tests` (name → function) in order, printing `ok NAME` or `not ok NAME: stack`, then
 * `LABEL: N passed, N failed`, and sets the exit code. A run still going after `limitMs` prints
 * `not ok LABEL: still running after N s` and exits 1.
 */
async function runTests(label, tests, limitMs = 60_000) {
  const watchdog = setTimeout(() => {
    console.log(`not ok ${label}: still running after ${limitMs / 1000} s`);
    process.exit(1);
  }, limitMs);
  watchdog.unref();
  let passed = 0;
  let failed = 0;
  for (const [name, fn] of Object.entries(tests)) {
    try {
      await fn();
      passed++;
      console.log(`ok ${name}`);
    } catch (error) {
      failed++;
      console.log(`not ok ${name}: ${error?.stack ?? error}`);
    }
  }
  console.log(`${label}: ${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

module.exports = { echo, runTests };
