/**
 * Server CPU per request: `@netpoll/core` echo against an idiomatic `node:net` echo, side by side
 * in one run (DESIGN.md §6 method). Each server runs in a child process pinned to CPU 0 (taskset
 * when available); the load generator (node:net clients, 1 KiB length-header ping-pong) runs here,
 * pinned to CPU 1. Server CPU comes from /proc/<pid>/stat over the measured window; the table shows
 * medians over the repeats and the ratio core/net. Also prints core's reactor counters per
 * request (native→JS calls, JS→native calls, slabs). It prints; it never asserts.
 * Knobs: BENCH_CONNECTIONS (default 100), BENCH_REQUESTS (per repeat, default 200000),
 * BENCH_REPEATS (default 5), BENCH_PIPELINE (frames in flight per connection, default 1).
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';

const connections = Number(process.env.BENCH_CONNECTIONS ?? 100);
const requestsPerRepeat = Number(process.env.BENCH_REQUESTS ?? 200000);
const repeats = Number(process.env.BENCH_REPEATS ?? 5);
const pipeline = Number(process.env.BENCH_PIPELINE ?? 1);
const payloadSize = 1024;
const ticksPerSecond = 100;

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

interface Server {
  child: ChildProcess;
  port: number;
  request(message: string): Promise<Record<string, unknown>>;
}

async function startServer(impl: string, pin: boolean): Promise<Server> {
  const script = join(__dirname, 'echo-server.js');
  const child = pin
    ? fork(script, [impl], { execPath: 'taskset', execArgv: ['-c', '0', process.execPath] })
    : fork(script, [impl]);
  const port = await new Promise<number>((resolve) =>
    child.once('message', (message: { port: number }) => resolve(message.port)),
  );
  return {
    child,
    port,
    request: (message) =>
      new Promise((resolve) => {
        child.once('message', (reply: Record<string, unknown>) => resolve(reply));
        child.send(message);
      }),
  };
}

async function load(port: number, total: number): Promise<void> {
  const frame = Buffer.alloc(4 + payloadSize, 7);
  frame.writeUInt32BE(payloadSize, 0);
  const frameBytes = frame.length;
  let remaining = total;
  const sockets: Socket[] = [];
  await new Promise<void>((resolve) => {
    let finished = 0;
    for (let i = 0; i < connections; i++) {
      const socket = connect({ port, host: '127.0.0.1', noDelay: true });
      sockets.push(socket);
      let buffered = 0;
      let inFlight = 0;
      const send = (): void => {
        while (inFlight < pipeline && remaining > 0) {
          remaining--;
          inFlight++;
          socket.write(frame);
        }
        if (inFlight === 0) {
          finished++;
          if (finished === connections) resolve();
        }
      };
      socket.on('connect', send);
      socket.on('data', (chunk: Buffer) => {
        buffered += chunk.length;
        while (buffered >= frameBytes) {
          buffered -= frameBytes;
          inFlight--;
        }
        send();
      });
    }
  });
  for (const socket of sockets) socket.destroy();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const pin = hasTaskset();
  if (pin) execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const samples: Record<string, number[]> = { net: [], core: [] };
  let counters: Record<string, number> = {};
  for (let repeat = 0; repeat < repeats; repeat++) {
    for (const impl of repeat % 2 === 0 ? ['net', 'core'] : ['core', 'net']) {
      const server = await startServer(impl, pin);
      await load(server.port, 2000); // warm-up
      const before = cpuSeconds(server.child.pid!);
      const statsBefore = (await server.request('stats')).stats as Record<string, number> | null;
      await load(server.port, requestsPerRepeat);
      const after = cpuSeconds(server.child.pid!);
      const statsAfter = (await server.request('stats')).stats as Record<string, number> | null;
      samples[impl]!.push(((after - before) * 1e6) / requestsPerRepeat);
      if (statsBefore !== null && statsAfter !== null) {
        counters = {};
        for (const key of Object.keys(statsAfter)) {
          counters[key] = (statsAfter[key]! - statsBefore[key]!) / requestsPerRepeat;
        }
      }
      server.child.send('stop');
      await new Promise((resolve) => server.child.once('exit', resolve));
    }
  }
  const net = median(samples.net!);
  const core = median(samples.core!);
  console.log(
    `server CPU per 1 KiB request, ${connections} connections, pipeline ${pipeline}, ` +
      `${requestsPerRepeat} requests x ${repeats} repeats${pin ? ', pinned' : ''}`,
  );
  console.log('| server | µs/request (median) | samples | ratio vs net |');
  console.log('| --- | --- | --- | --- |');
  console.log(
    `| node:net idiomatic | ${net.toFixed(2)} | ${samples.net!.map((v) => v.toFixed(1)).join(' ')} | 1.00 |`,
  );
  console.log(
    `| @netpoll/core | ${core.toFixed(2)} | ${samples.core!.map((v) => v.toFixed(1)).join(' ')} | ${(core / net).toFixed(2)} |`,
  );
  console.log('core counters per request (last repeat):');
  for (const key of [
    'batches',
    'nativeToJsCalls',
    'jsToNativeCalls',
    'reads',
    'writevCalls',
    'inboundSlabs',
    'outboundSlabs',
  ]) {
    console.log(`  ${key}: ${(counters[key] ?? 0).toFixed(4)}`);
  }
}

void main();
