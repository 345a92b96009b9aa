/**
 * Server CPU per request: `@netpoll/core` echo against an idiomatic `node:net` echo, side by side
 * in one run (DESIGN.md §6 method). Each server runs in a child process pinned to CPU 0 (taskset
 * when available); the load generator runs on CPU 1: `bench/loadgen` (a small C++ epoll client,
 * built here with cmake on first use; BENCH_CLIENT=c, the default on Linux) or node:net clients in
 * this process (BENCH_CLIENT=node). 1 KiB length-header ping-pong. Server CPU comes from /proc/<pid>/stat over the measured window; the table shows
 * medians over the repeats and the ratio core/net. Also prints core's reactor counters per
 * request (native→JS calls, JS→native calls, slabs). It prints; it never asserts.
 * Knobs: BENCH_CONNECTIONS (default 100), BENCH_REQUESTS (per repeat, default 200000),
 * BENCH_REPEATS (default 5), BENCH_PIPELINE (frames in flight per connection, default 1).
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';

const connections = Number(process.env.BENCH_CONNECTIONS ?? 100);
const requestsPerRepeat = Number(process.env.BENCH_REQUESTS ?? 200000);
const repeats = Number(process.env.BENCH_REPEATS ?? 5);
const pipeline = Number(process.env.BENCH_PIPELINE ?? 1);
const payloadSize = 1024;
const packageRoot = join(__dirname, '..', '..');
const loadgenBuild = join(packageRoot, 'build-native-loadgen');
const loadgen = join(loadgenBuild, 'netpoll_loadgen');

/** Builds bench/loadgen with cmake when needed; returns false when that is not possible. */
function ensureLoadgen(): boolean {
  if (process.platform !== 'linux') return false;
  if (existsSync(loadgen)) return true;
  try {
    execFileSync(
      'cmake',
      [
        '-S',
        packageRoot,
        '-B',
        loadgenBuild,
        '-DNETPOLL_ADDON=OFF',
        '-DNETPOLL_BENCH_TOOLS=ON',
        '-DCMAKE_BUILD_TYPE=Release',
      ],
      { stdio: 'ignore' },
    );
    execFileSync('cmake', ['--build', loadgenBuild, '--target', 'netpoll_loadgen'], {
      stdio: 'ignore',
    });
    return existsSync(loadgen);
  } catch {
    return false;
  }
}

function loadWithC(port: number, total: number, pin: boolean): Promise<void> {
  const args = [
    String(port),
    String(connections),
    String(total),
    String(pipeline),
    String(payloadSize),
  ];
  const child = pin
    ? spawn('taskset', ['-c', '1', loadgen, ...args], { stdio: 'inherit' })
    : spawn(loadgen, args, { stdio: 'inherit' });
  return new Promise((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`loadgen exited with ${code}`)),
    ),
  );
}
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
  const useC = (process.env.BENCH_CLIENT ?? 'c') === 'c' && ensureLoadgen();
  const drive = (port: number, total: number): Promise<void> =>
    useC ? loadWithC(port, total, pin) : load(port, total);
  const impls = ['net', 'net-batched', 'core'];
  const samples: Record<string, number[]> = { net: [], 'net-batched': [], core: [] };
  let counters: Record<string, number> = {};
  for (let repeat = 0; repeat < repeats; repeat++) {
    // Rotate the order so no contender always runs first.
    const order = impls.map((_, index) => impls[(index + repeat) % impls.length]!);
    for (const impl of order) {
      const server = await startServer(impl, pin);
      await drive(server.port, 2000); // warm-up
      const before = cpuSeconds(server.child.pid!);
      const statsBefore = (await server.request('stats')).stats as Record<string, number> | null;
      await drive(server.port, requestsPerRepeat);
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
  console.log(
    `server CPU per 1 KiB request, ${connections} connections, pipeline ${pipeline}, ` +
      `${requestsPerRepeat} requests x ${repeats} repeats, ${useC ? 'C' : 'node:net'} load generator` +
      `${pin ? ', pinned' : ''}`,
  );
  console.log('| server | µs/request (median) | samples | ratio vs net |');
  console.log('| --- | --- | --- | --- |');
  const labels: Record<string, string> = {
    net: 'node:net idiomatic',
    'net-batched': 'node:net hand-optimised',
    core: '@netpoll/core',
  };
  for (const impl of impls) {
    const value = median(samples[impl]!);
    const list = samples[impl]!.map((v) => v.toFixed(1)).join(' ');
    console.log(
      `| ${labels[impl]} | ${value.toFixed(2)} | ${list} | ${(value / net).toFixed(2)} |`,
    );
  }
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
