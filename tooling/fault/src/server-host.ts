/**
 * A server host: `node server-host.js --name s1 --listen 198.18.0.11:7000`, run by the harness
 * inside the host's namespace. Runs apps/echo's RPC server as its entry does — its config
 * (`parseServerConfig`), `startRpcServer` (one reactor thread loading the Echo service module,
 * the operations port, the graceful `close()`) — beside the harness's IPC. SIGTERM closes it
 * gracefully (GOAWAY, every read request answered) and then exits 0.
 *
 * What the tests read of the service (`stats` → `service`) comes from the server's own metrics:
 * the calls every reactor counted, by method and answered code.
 */
import { closeSync, openSync, readdirSync, readlinkSync } from 'node:fs';
import {
  createEchoClient,
  createLogger,
  kServiceName,
  parseServerConfig,
  type RunningRpcServer,
  startRpcServer,
} from '@netpoll/app-echo';
import { announceReady, parseArgs, sampleResources, serveHarness } from './host-ipc';
import { clock, sleep } from './load';
import { countersOf } from './service-counters';

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const listen = args.listen ?? '127.0.0.1:0';
  const colon = listen.lastIndexOf(':');
  const config = parseServerConfig(
    [
      '--host',
      listen.slice(0, colon),
      '--port',
      listen.slice(colon + 1),
      '--metrics-port',
      '0',
      '--reactors',
      '1',
      '--hash-threads',
      '1',
      '--shutdown-timeout',
      args['shutdown-timeout'] ?? '5000',
      '--log-level',
      'info',
    ],
    {},
  );
  const logger = createLogger(config.logLevel, kServiceName).child({ host: args.name });
  // --exhaust: run out of descriptors but `exhaust` (Node raises its soft limit to the hard
  // one at start, and the hard one cannot be raised again without CAP_SYS_RESOURCE: a held
  // ballast of /dev/null descriptors, released over IPC, is the limit the test can lift).
  const exhaust = args.exhaust === undefined ? -1 : Number(args.exhaust);
  // Room for the server to start: listener, operations port, the reactor's and the hash
  // pool's threads (each thread's event loop takes a few descriptors), and the two sockets of
  // the settle call.
  if (exhaust >= 0) fillDescriptors(exhaust + 48);
  const server = await startRpcServer(config, logger);
  // Its port refuses until it is ready (Cluster.startServer): no connection got in meanwhile.
  if (exhaust >= 0) {
    await settle(server);
    fillDescriptors(exhaust);
  }
  // A second SIGTERM while closing changes nothing (close() is idempotent).
  process.on('SIGTERM', () => {
    void server.close().then(
      (report) => {
        logger.info(report, 'stopped');
        process.exit(0);
      },
      (error) => {
        process.stderr.write(`close failed: ${error}\n`);
        process.exit(1);
      },
    );
  });
  serveHarness({
    stats: async () => {
      // Collects every reactor's latest tally (totals() sums them).
      await server.metrics.render();
      return { service: countersOf(server.metrics.totals()), resources: sampleResources() };
    },
    release: () => {
      for (const fd of ballast.splice(0)) closeSync(fd);
      return true;
    },
  });
  announceReady({ address: server.address, pid: process.pid });
}

const ballast: number[] = [];

/**
 * Waits until no thread of the server still opens or closes descriptors. The hash pool's thread
 * starts after the server is ready: caught by the ballast while it boots, it fails and frees its
 * own descriptors, and the server then has more free than `exhaust` (it accepted every
 * connection, and the test saw no fault). So one `hash` call (over loopback: the port refuses
 * on eth0 only), answered once that thread runs, on one connection (accepted, since it carried
 * the call: none is left in the backlog to be accepted later); then until both ends of it are
 * closed (the reactor itself holds no socket). Each wait is bounded well inside the harness's
 * ready timeout, so a failure here is reported as itself.
 */
async function settle(server: RunningRpcServer): Promise<void> {
  const sockets = openSockets();
  const client = createEchoClient(server.address, { timeout: 5000, connections: 1 });
  try {
    await client.hash({ data: 'settle' });
  } finally {
    await client.close();
  }
  const deadline = clock() + 5000;
  while (openSockets() > sockets) {
    if (clock() > deadline) throw new Error("the settle call's connection stayed open");
    await sleep(20);
  }
}

/** Sockets among this process's descriptors. */
function openSockets(): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) count++;
    } catch {
      // the listing's own descriptor, closed by now
    }
  }
  return count;
}

/** Opens /dev/null until EMFILE, then closes `leave` of them: that many descriptors are free. */
function fillDescriptors(leave: number): void {
  for (;;) {
    try {
      ballast.push(openSync('/dev/null', 'r'));
    } catch {
      break;
    }
  }
  for (const fd of ballast.splice(ballast.length - leave, leave)) closeSync(fd);
}

main().catch((error) => {
  process.stderr.write(`server host failed: ${error?.stack ?? error}\n`);
  process.exit(1);
});
