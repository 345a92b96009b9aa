// Runs under `ulimit -n 64` (see dialer.native.test.ts): exhausts the descriptor table, checks
// that the listener backs off instead of spinning, frees descriptors and checks that the pending
// connection is accepted. Prints one JSON line. Uses the built dist/ (the package's public API).

const { openSync, closeSync } = require('node:fs');
const { connect } = require('node:net');
const core = require('../../dist/index.js');

async function main() {
  let accepted = 0;
  const loop = new core.EventLoop(null, {
    onConnect: () => {
      accepted++;
    },
    onError: () => {},
  });
  const listener = core.createListener('tcp', '127.0.0.1:0');
  // Connect before serving: the connection waits in the kernel's accept queue.
  const socket = connect(listener.port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.on('connect', resolve));
  const hogs = [];
  for (;;) {
    try {
      hogs.push(openSync('/dev/null', 'r'));
    } catch {
      break;
    }
  }
  // Now accept can only fail with EMFILE.
  const served = loop.serve(listener);
  while (core.getReactorStats().acceptBackoffs === 0) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const start = core.getReactorStats();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const paused = core.getReactorStats();
  for (const fd of hogs) closeSync(fd);
  while (accepted === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  const result = {
    backoffs: paused.acceptBackoffs,
    batchesWhilePaused: paused.batches - start.batches,
    acceptedAfterResume: accepted,
  };
  socket.destroy();
  await loop.shutdown({ timeout: 100 });
  await served;
  console.log(JSON.stringify(result));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
