/**
 * Pool checkout cost: taking an idle connection from the pool transport's stack (with its
 * `isActive()` check) and giving it back, against `generic-pool`'s acquire/release. Prints ns per
 * checkout + checkin and the garbage collections seen meanwhile (0 over millions of checkouts means
 * nothing is allocated per checkout). Never asserts.
 *
 *   pnpm --filter @netpoll/rpc bench
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { dialConnection } from '@netpoll/core';
import { createPool } from 'generic-pool';
import { ClientConnection } from '../src/client/client-connection';
import { PoolEndpoint } from '../src/client/pool-endpoint';
import { resolveClientOptions } from '../src/options';
import { createServer } from '../src/server/server';

const kCheckouts = Number(process.env.BENCH_CHECKOUTS ?? 5_000_000);
const kConnections = 16;

let collections = 0;
const observer = new PerformanceObserver((list) => {
  collections += list.getEntries().length;
});
observer.observe({ entryTypes: ['gc'] });

async function netpollPool(address: string): Promise<{ ns: number; gcs: number }> {
  const options = resolveClientOptions({ transport: 'pool' });
  const endpoint = new PoolEndpoint(address, { options, redispatch: () => {} });
  const connections: ClientConnection[] = [];
  for (let i = 0; i < kConnections; i++) {
    const dialed = await dialConnection('tcp', address, {
      framing: { lengthHeader: 4, maxFrameSize: options.maxFrameSize },
    });
    const connection = new ClientConnection(dialed, endpoint, options);
    connections.push(connection);
    // As a completed dial hands it over (the connection then sits on the idle stack).
    (endpoint as unknown as { connected(connection: ClientConnection): void }).connected(
      connection,
    );
  }
  for (let i = 0; i < 100_000; i++) endpoint.checkin(endpoint.checkout()!); // warm up
  await new Promise((resolve) => setImmediate(resolve));
  const before = collections;
  const start = process.hrtime.bigint();
  for (let i = 0; i < kCheckouts; i++) endpoint.checkin(endpoint.checkout()!);
  const ns = Number(process.hrtime.bigint() - start) / kCheckouts;
  await new Promise((resolve) => setImmediate(resolve)); // let the observer report
  const gcs = collections - before;
  endpoint.close('closed');
  for (const connection of connections) connection.connection.close();
  return { ns, gcs };
}

async function genericPool(): Promise<{ ns: number; gcs: number }> {
  let next = 0;
  const pool = createPool(
    { create: async () => ({ id: next++ }), destroy: async () => {} },
    { max: kConnections, min: kConnections },
  );
  const count = Math.min(kCheckouts, 1_000_000);
  for (let i = 0; i < 10_000; i++) await pool.release(await pool.acquire());
  const before = collections;
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await pool.release(await pool.acquire());
  const ns = Number(process.hrtime.bigint() - start) / count;
  await new Promise((resolve) => setImmediate(resolve));
  const gcs = collections - before;
  await pool.drain();
  await pool.clear();
  return { ns, gcs };
}

async function main(): Promise<void> {
  const server = createServer({ echo: (request: Buffer) => request });
  await server.listen('127.0.0.1:0');
  const ours = [];
  const theirs = [];
  for (let repeat = 0; repeat < 3; repeat++) {
    ours.push(await netpollPool(server.address));
    theirs.push(await genericPool());
  }
  await server.close();
  observer.disconnect();
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[1]!;
  const ns = median(ours.map((run) => run.ns));
  const generic = median(theirs.map((run) => run.ns));
  console.log(
    `pool checkout + checkin, medians of 3: @netpoll/rpc ${ns.toFixed(1)} ns (GCs during ${kCheckouts} checkouts: ${ours.map((run) => run.gcs).join(', ')}), ` +
      `generic-pool acquire + release ${generic.toFixed(1)} ns (GCs: ${theirs.map((run) => run.gcs).join(', ')}): ${(generic / ns).toFixed(1)}× faster`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
