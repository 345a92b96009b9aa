/**
 * A server host: `node server-host.js --name s1 --listen 198.18.0.11:7000`, run by the harness
 * inside the host's namespace. Serves the fault service (service.ts) with @netpoll/rpc; SIGTERM
 * closes the server gracefully (GOAWAY, every read request answered) and then exits 0.
 */
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
  await server.listen(args.listen ?? '127.0.0.1:0');
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
  });
  announceReady({ address: server.address, pid: process.pid });
}

main().catch((error) => {
  process.stderr.write(`server host failed: ${error?.stack ?? error}\n`);
  process.exit(1);
});
