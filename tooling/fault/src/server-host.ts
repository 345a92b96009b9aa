/**
 * A server host: `node server-host.js --name s1 --listen 198.18.0.11:7000`, run by the harness
 * inside the host's namespace. Serves the fault service (service.ts) with @netpoll/rpc; SIGTERM
 * closes the server gracefully (GOAWAY, every read request answered) and then exits 0.
 */
import { closeSync, openSync } from 'node:fs';
import { createServer } from '@netpoll/rpc';
import { announceReady, parseArgs, sampleResources, serveHarness } from './host-ipc';
import { createFaultService } from './service';

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const name = args.name ?? 'server';
  const { service, counters } = createFaultService(name);
  const server = createServer(service, {
    serializer: 'json',
    shutdownTimeout: Number(args['shutdown-timeout'] ?? 5000),
  });
  // --exhaust: run out of descriptors but `exhaust` (Node raises its soft limit to the hard
  // one at start, and the hard one cannot be raised again without CAP_SYS_RESOURCE: a held
  // ballast of /dev/null descriptors, released over IPC, is the limit the test can lift).
  const exhaust = args.exhaust === undefined ? -1 : Number(args.exhaust);
  if (exhaust >= 0) fillDescriptors(exhaust + 8); // room for the listener and the reactor
  await server.listen(args.listen ?? '127.0.0.1:0');
  if (exhaust >= 0) fillDescriptors(exhaust);
  // A second SIGTERM while closing changes nothing (close() is idempotent).
  process.on('SIGTERM', () => {
    void server.close().then(
      () => process.exit(0),
      (error) => {
        process.stderr.write(`close failed: ${error}\n`);
        process.exit(1);
      },
    );
  });
  serveHarness({
    stats: async () => ({
      server: await server.stats(),
      service: counters,
      resources: sampleResources(),
    }),
    release: () => {
      for (const fd of ballast.splice(0)) closeSync(fd);
      return true;
    },
  });
  announceReady({ address: server.address, pid: process.pid });
}

const ballast: number[] = [];

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
