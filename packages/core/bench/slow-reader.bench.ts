/**
 * Fairness under a slow reader: the latency of ordinary connections while one peer sends a flood
 * of 64 KiB frames and never reads its echo. The `@netpoll/core` bench echo server
 * (echo-server.ts: native framing, `writeFrom` + `flush`, no `writable` check — the library must
 * protect the other connections by itself) runs pinned to CPU 0; this process, pinned to CPU 1,
 * drives `BENCH_CONNECTIONS` (default 20) node:net clients doing 1 KiB ping-pong and measures each
 * round trip. Each repeat measures a phase without the slow peer, then one with it (it starts
 * sending BENCH_SLOW_MB, default 200, before the phase and never reads), on a fresh server.
 * Prints p50/p99 per phase, their ratio and the server's reactor counters; medians over
 * BENCH_REPEATS (default 3). Never asserts.
 *
 *   pnpm --filter @netpoll/core bench:slow-reader
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';

const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);
const roundTrips = Number(process.env.BENCH_ROUND_TRIPS ?? 2000);
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
const slowBytes = Number(process.env.BENCH_SLOW_MB ?? 200) * 1024 * 1024;
const phaseTimeout = Number(process.env.BENCH_PHASE_TIMEOUT ?? 30000);

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const pin = hasTaskset();

function startServer(): Promise<{ child: ChildProcess; port: number }> {
  const script = join(__dirname, 'echo-server.js');
  const child = pin
    ? fork(script, ['core'], { execPath: 'taskset', execArgv: ['-c', '0', process.execPath] })
    : fork(script, ['core']);
  return new Promise((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve({ child, port: message.port }));
    child.once('exit', (code) => reject(new Error(`echo server exited with ${code}`)));
  });
}

function stats(child: ChildProcess): Promise<Record<string, number>> {
  return new Promise((resolve) => {
    child.once('message', (reply: { stats: Record<string, number> }) => resolve(reply.stats));
    child.send('stats');
  });
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.setNoDelay(true);
    socket.once('error', reject);
  });
}

function frame(size: number, fill: number): Buffer {
  const buffer = Buffer.alloc(4 + size, fill);
  buffer.writeUInt32BE(size, 0);
  return buffer;
}

/**
 * Ping-pong on every socket until each made `roundTrips` (or the phase times out: a starved
 * server); returns every round trip in µs and whether all of them completed.
 */
function pingPong(sockets: Socket[]): Promise<{ samples: number[]; complete: boolean }> {
  const request = frame(1024, 0x61);
  const samples: number[] = [];
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ samples, complete: false }), phaseTimeout);
    let finished = 0;
    for (const socket of sockets) {
      let done = 0;
      let buffered = 0;
      let sentAt = process.hrtime.bigint();
      socket.on('data', (chunk: Buffer) => {
        buffered += chunk.length;
        while (buffered >= request.length) {
          buffered -= request.length;
          samples.push(Number(process.hrtime.bigint() - sentAt) / 1000);
          if (++done === roundTrips) {
            socket.removeAllListeners('data');
            if (++finished === sockets.length) {
              clearTimeout(timer);
              resolve({ samples, complete: true });
            }
            return;
          }
          sentAt = process.hrtime.bigint();
          socket.write(request);
        }
      });
      socket.write(request);
    }
  });
}

/** Starts a peer that sends `slowBytes` of 64 KiB frames as fast as the server takes them. */
async function slowPeer(port: number): Promise<Socket> {
  const socket = await open(port);
  socket.pause(); // never reads its echo
  socket.on('error', () => {});
  const chunk = frame(64 << 10, 0x53);
  let sent = 0;
  const push = (): void => {
    while (sent < slowBytes) {
      sent += chunk.length;
      if (!socket.write(chunk)) return;
    }
  };
  socket.on('drain', push);
  push();
  // Let it fill what the server will take before the measured phase starts.
  await new Promise((resolve) => setTimeout(resolve, 500));
  return socket;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Phase {
  p50: number;
  p99: number;
  stalls: number;
  /** Round trips made, of `connections × roundTrips`. */
  made: number;
}

async function phase(withSlowPeer: boolean): Promise<Phase> {
  const server = await startServer();
  try {
    const slow = withSlowPeer ? await slowPeer(server.port) : null;
    const sockets = await Promise.all(Array.from({ length: connections }, () => open(server.port)));
    const { samples } = await pingPong(sockets);
    samples.sort((a, b) => a - b);
    const counters = await stats(server.child);
    for (const socket of sockets) socket.destroy();
    slow?.destroy();
    return {
      p50: samples.length > 0 ? percentile(samples, 50) : Number.NaN,
      p99: samples.length > 0 ? percentile(samples, 99) : Number.NaN,
      stalls: counters.readStalls ?? 0,
      made: samples.length,
    };
  } finally {
    server.child.kill('SIGTERM');
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  if (pin) execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const rows: Array<{ base: Phase; slow: Phase }> = [];
  for (let repeat = 0; repeat < repeats; repeat++) {
    const base = await phase(false);
    const slow = await phase(true);
    rows.push({ base, slow });
    console.log(
      `repeat ${repeat + 1}: p50 ${base.p50.toFixed(0)} → ${slow.p50.toFixed(0)} µs, ` +
        `p99 ${base.p99.toFixed(0)} → ${slow.p99.toFixed(0)} µs ` +
        `(ratio ${(slow.p99 / base.p99).toFixed(2)}), read stalls ${slow.stalls}, ` +
        `round trips ${slow.made} of ${connections * roundTrips}`,
    );
  }
  const ratio = median(rows.map((row) => row.slow.p99 / row.base.p99));
  console.log(
    `${connections} connections × ${roundTrips} round trips of 1 KiB, one peer flooding ` +
      `${slowBytes >> 20} MiB it never reads; medians of ${repeats}: ` +
      `p50 ${median(rows.map((row) => row.base.p50)).toFixed(0)} → ${median(rows.map((row) => row.slow.p50)).toFixed(0)} µs, ` +
      `p99 ${median(rows.map((row) => row.base.p99)).toFixed(0)} → ${median(rows.map((row) => row.slow.p99)).toFixed(0)} µs, ` +
      `p99 ratio ${ratio.toFixed(2)}${pin ? '' : ' (not pinned: taskset missing)'}`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
