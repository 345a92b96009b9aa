/**
 * Server CPU per request: `@netpoll/core` echo against the plain C epoll echo server (the floor of
 * bench/c-echo), an idiomatic `node:net` echo and a hand-optimised one, side by side
 * in one run. Each server runs in a child process pinned to CPU 0 (taskset
 * when available); the load generator runs on CPU 1: `bench/loadgen` (a small C++ epoll client;
 * BENCH_CLIENT=c, the default on Linux) or node:net clients in this process (BENCH_CLIENT=node).
 * Both C tools are built with cmake (native-tools.ts). 1 KiB length-header ping-pong.
 * Server CPU comes from /proc/<pid>/stat over the measured window; the table shows medians over the
 * repeats, the ratio to idiomatic node:net and the ratio to the C floor. Also prints core's reactor
 * counters per request (native→JS calls, JS→native calls, slabs). Every server first has to pass a
 * byte-exact echo check (verify-echo.ts). It prints; it never asserts on figures.
 * Knobs: BENCH_CONNECTIONS (default 100), BENCH_REQUESTS (per repeat, default 200000),
 * BENCH_REPEATS (default 5), BENCH_PIPELINE (frames in flight per connection, default 1),
 * BENCH_IMPLS (comma-separated servers, default `c,net,net-batched,core`).
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import {
  cEchoPath,
  ensureNativeTools,
  exited,
  hasTaskset,
  pinned,
  pinSelf,
  runLoadgen,
  stopChild,
  track,
} from './native-tools';
import { verifyEcho } from './verify-echo';

const connections = Number(process.env.BENCH_CONNECTIONS ?? 100);
const requestsPerRepeat = Number(process.env.BENCH_REQUESTS ?? 200000);
const repeats = Number(process.env.BENCH_REPEATS ?? 5);
const pipeline = Number(process.env.BENCH_PIPELINE ?? 1);
const payloadSize = 1024;
const maxFrameSize = 1 << 20;

const labels = {
  c: 'plain C epoll (floor)',
  net: 'node:net idiomatic',
  'net-batched': 'node:net hand-optimised',
  core: '@netpoll/core',
} as const;
type Impl = keyof typeof labels;

function isImpl(name: string): name is Impl {
  return Object.hasOwn(labels, name);
}

/** BENCH_IMPLS, validated; the table keeps the order of `labels`. */
function selectedImpls(): Impl[] {
  const names = (process.env.BENCH_IMPLS ?? Object.keys(labels).join(','))
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  for (const name of names) {
    if (!isImpl(name)) {
      throw new Error(
        `BENCH_IMPLS must list some of ${Object.keys(labels).join(', ')} (received ${name})`,
      );
    }
  }
  return (Object.keys(labels) as Impl[]).filter((impl) => names.includes(impl));
}

const ticksPerSecond = 100;

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** A running echo server: its process, port, and core's reactor counters (null for the others). */
interface Server {
  child: ChildProcess;
  port: number;
  stats(): Promise<Record<string, number> | null>;
}

/** Rejects when `child` exits before `ready` settles. */
function untilReady<T>(child: ChildProcess, impl: Impl, ready: Promise<T>): Promise<T> {
  const early = exited(child).then((code) => {
    throw new Error(`${impl} server exited with ${code ?? child.signalCode} before it listened`);
  });
  return Promise.race([ready, early]);
}

/** The C floor: prints its port on stdout; exits on SIGTERM or when its stdin closes. */
async function startCServer(cpu: number | null): Promise<Server> {
  const [command, args] = pinned(cpu, cEchoPath, [String(maxFrameSize)]);
  const child = track(spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] }));
  let output = '';
  const port = await untilReady(
    child,
    'c',
    new Promise<number>((resolve) =>
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('\n')) resolve(Number(output.trim()));
      }),
    ),
  );
  return { child, port, stats: () => Promise.resolve(null) };
}

/** core and the node:net servers: bench/echo-server.ts over IPC. */
async function startNodeServer(impl: Impl, cpu: number | null): Promise<Server> {
  const script = join(__dirname, 'echo-server.js');
  const child = track(
    cpu === null
      ? fork(script, [impl])
      : fork(script, [impl], {
          execPath: 'taskset',
          execArgv: ['-c', String(cpu), process.execPath],
        }),
  );
  const port = await untilReady(
    child,
    impl,
    new Promise<number>((resolve) =>
      child.once('message', (message: { port: number }) => resolve(message.port)),
    ),
  );
  return {
    child,
    port,
    stats: () =>
      new Promise((resolve) => {
        child.once('message', (reply: { stats: Record<string, number> | null }) =>
          resolve(reply.stats),
        );
        child.send('stats');
      }),
  };
}

function startServer(impl: Impl, cpu: number | null): Promise<Server> {
  return impl === 'c' ? startCServer(cpu) : startNodeServer(impl, cpu);
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

/** Runs one repeat of one server: echo check, warm-up, then the measured window. */
async function measure(
  impl: Impl,
  cpu: number | null,
  drive: (port: number, total: number) => Promise<void>,
): Promise<{ microseconds: number; counters: Record<string, number> | null }> {
  const server = await startServer(impl, cpu);
  try {
    await verifyEcho(labels[impl], server.port);
    await drive(server.port, 2000); // warm-up
    const before = cpuSeconds(server.child.pid!);
    const statsBefore = await server.stats();
    await drive(server.port, requestsPerRepeat);
    const after = cpuSeconds(server.child.pid!);
    const statsAfter = await server.stats();
    let counters: Record<string, number> | null = null;
    if (statsBefore !== null && statsAfter !== null) {
      counters = {};
      for (const key of Object.keys(statsAfter)) {
        counters[key] = (statsAfter[key]! - statsBefore[key]!) / requestsPerRepeat;
      }
    }
    return { microseconds: ((after - before) * 1e6) / requestsPerRepeat, counters };
  } finally {
    await stopChild(server.child);
  }
}

/** `value / base` with two decimals, or a dash when the base was not measured. */
function ratio(value: number, base: number | undefined): string {
  return base === undefined ? '—' : (value / base).toFixed(2);
}

async function main(): Promise<void> {
  const pin = hasTaskset();
  // This process (and the node:net clients of BENCH_CLIENT=node) stays off the server's CPU.
  if (pin) pinSelf(1);
  const tools = ensureNativeTools();
  const useC = (process.env.BENCH_CLIENT ?? 'c') === 'c' && tools;
  const drive = (port: number, total: number): Promise<void> =>
    useC
      ? runLoadgen(port, { connections, total, pipeline, size: payloadSize, cpu: pin ? 1 : null })
      : load(port, total);
  let impls = selectedImpls();
  if (!tools && impls.includes('c')) {
    console.log(`the C floor is skipped: ${cEchoPath} could not be built (Linux, cmake, g++)`);
    impls = impls.filter((impl) => impl !== 'c');
  }
  const samples = new Map<Impl, number[]>(impls.map((impl) => [impl, []]));
  let counters: Record<string, number> = {};
  for (let repeat = 0; repeat < repeats; repeat++) {
    // Rotate the order so no contender always runs first.
    const order = impls.map((_, index) => impls[(index + repeat) % impls.length]!);
    for (const impl of order) {
      const result = await measure(impl, pin ? 0 : null, drive);
      samples.get(impl)!.push(result.microseconds);
      if (result.counters !== null) counters = result.counters;
    }
  }
  const medians = new Map([...samples].map(([impl, values]) => [impl, median(values)]));
  console.log(
    `server CPU per 1 KiB request, ${connections} connections, pipeline ${pipeline}, ` +
      `${requestsPerRepeat} requests x ${repeats} repeats, ${useC ? 'C' : 'node:net'} load generator` +
      `${pin ? ', pinned' : ''}`,
  );
  console.log('| server | µs/request (median) | samples | ratio vs net | vs C floor |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const impl of impls) {
    const value = medians.get(impl)!;
    const list = samples
      .get(impl)!
      .map((v) => v.toFixed(1))
      .join(' ');
    console.log(
      `| ${labels[impl]} | ${value.toFixed(2)} | ${list} | ${ratio(value, medians.get('net'))} | ` +
        `${ratio(value, medians.get('c'))} |`,
    );
  }
  if (!impls.includes('core')) return;
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

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
