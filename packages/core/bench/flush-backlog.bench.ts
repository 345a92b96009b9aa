/**
 * Cost of `writer.flush()` as unsent output piles up: a producer that ignores `writable` flushes
 * into a connection whose peer never reads (a node:net server with `pauseOnConnect`), so the
 * kernel buffers fill and the rest stays queued in the writer. Blocks of BENCH_FLUSHES flushes of
 * BENCH_SIZE bytes (`writeBinary` + `flush()`) are timed one after another; the table shows how
 * much output was queued when each block started, the block's wall-clock and CPU time, and the
 * CPU time per flush. A flush should cost the same with an empty queue as with a long one.
 * Prints; never asserts. Run after `pnpm build`:
 *   cd packages/core && tsc -p tsconfig.bench.json && node dist-bench/bench/flush-backlog.bench.js
 * Knobs: BENCH_BLOCKS (default 8), BENCH_FLUSHES (per block, default 10000), BENCH_SIZE (bytes per
 * flush, default 1100).
 */
import { createServer, type Socket } from 'node:net';
import { dialConnection } from '@netpoll/core';

const blocks = Number(process.env.BENCH_BLOCKS ?? 8);
const flushes = Number(process.env.BENCH_FLUSHES ?? 10000);
const size = Number(process.env.BENCH_SIZE ?? 1100);

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function main(): Promise<void> {
  let peer: Socket | null = null;
  const server = createServer({ pauseOnConnect: true }, (socket) => {
    peer = socket; // never resumed: the peer reads nothing
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const connection = await dialConnection('tcp', `127.0.0.1:${port}`);
  const payload = Buffer.alloc(size, 0x61);
  const { writer } = connection;

  console.log(`${blocks} blocks of ${flushes} flushes of ${size} bytes, peer never reads`);
  console.log('block | queued at start (MB) | wall (ms) | CPU (ms) | CPU per flush (µs)');
  for (let block = 0; block < blocks; block++) {
    await turn(); // let native write what the kernel still takes
    const queued = connection.pendingBytes;
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    for (let i = 0; i < flushes; i++) {
      writer.writeBinary(payload);
      writer.flush();
    }
    const wall = Number(process.hrtime.bigint() - started) / 1e6;
    const used = process.cpuUsage(cpu);
    const cpuMs = (used.user + used.system) / 1000;
    console.log(
      [
        String(block + 1).padStart(5),
        (queued / 1e6).toFixed(1).padStart(20),
        wall.toFixed(0).padStart(9),
        cpuMs.toFixed(0).padStart(8),
        ((cpuMs * 1000) / flushes).toFixed(2).padStart(18),
      ].join(' | '),
    );
  }
  connection.close();
  (peer as Socket | null)?.destroy();
  await new Promise((resolve) => server.close(resolve));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
