/**
 * The native bench tools shared by core.bench.ts and alloc.bench.ts, and the child processes they
 * run: `netpoll_loadgen` (bench/loadgen, the C++ epoll load generator) and `netpoll_c_echo`
 * (bench/c-echo, the plain C epoll echo server that is the floor of the targets). Both are built
 * with cmake (`-DNETPOLL_BENCH_TOOLS=ON`, into `build-native-loadgen/`), Linux only.
 *
 * Every child started here is tracked until it exits: the exit paths of the bench process (normal
 * end, an uncaught error, SIGINT/SIGTERM) kill whatever is still running, so no server or load
 * generator outlives a bench run. The normal path stops and reaps each child with `stopChild`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const packageRoot = join(__dirname, '..', '..');
const toolsBuild = join(packageRoot, 'build-native-loadgen');

/** Path of the C++ load generator executable. */
export const loadgenPath = join(toolsBuild, 'netpoll_loadgen');
/** Path of the plain C epoll echo server executable. */
export const cEchoPath = join(toolsBuild, 'netpoll_c_echo');

/**
 * Builds the bench tools with cmake: configures `build-native-loadgen/` once, then lets the build
 * tool bring both executables up to date (a no-op when nothing changed, so an edited bench/c-echo
 * or bench/loadgen source is never measured stale). Returns false when that is not possible (not
 * Linux, no cmake or compiler); the benches then fall back or skip.
 */
export function ensureNativeTools(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    if (!existsSync(join(toolsBuild, 'CMakeCache.txt'))) {
      execFileSync(
        'cmake',
        [
          '-S',
          packageRoot,
          '-B',
          toolsBuild,
          '-DNETPOLL_ADDON=OFF',
          '-DNETPOLL_BENCH_TOOLS=ON',
          '-DCMAKE_BUILD_TYPE=Release',
        ],
        { stdio: 'ignore' },
      );
    }
    execFileSync(
      'cmake',
      ['--build', toolsBuild, '--target', 'netpoll_loadgen', 'netpoll_c_echo'],
      { stdio: 'ignore' },
    );
    return existsSync(loadgenPath) && existsSync(cEchoPath);
  } catch {
    return false;
  }
}

/** True when `taskset` can pin processes here. */
export function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Moves this process to `cpu` (needs taskset). */
export function pinSelf(cpu: number): void {
  execFileSync('taskset', ['-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
}

/** `[command, args]` that runs `file args` on `cpu` with taskset, or unpinned when `cpu` is null. */
export function pinned(cpu: number | null, file: string, args: string[]): [string, string[]] {
  return cpu === null ? [file, args] : ['taskset', ['-c', String(cpu), file, ...args]];
}

const live = new Set<ChildProcess>();

function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
}

let exitHooksInstalled = false;

/**
 * Tracks a child until it exits. The first call installs the exit hooks: SIGINT/SIGTERM kill every
 * live child, wait until each is reaped (at most a second) and exit with the signal's status;
 * 'exit' (which cannot wait) kills what is left, and init reaps it. If this process is killed
 * outright, the children notice on their own: the C server sees its stdin close, a Node server its
 * IPC channel, and the load generator its connections.
 */
export function track<T extends ChildProcess>(child: T): T {
  if (!exitHooksInstalled) {
    exitHooksInstalled = true;
    process.on('exit', killAll);
    for (const [signal, status] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      process.once(signal, () => {
        const reaped = Promise.all([...live].map(exited));
        killAll();
        const deadline = new Promise((resolve) => setTimeout(resolve, 1000).unref());
        void Promise.race([reaped, deadline]).then(() => process.exit(status));
      });
    }
  }
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Resolves when the child has exited (and Node has reaped it). */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(child.exitCode);
  }
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Stops a child with SIGTERM and waits until it is reaped. */
export async function stopChild(child: ChildProcess): Promise<void> {
  const done = exited(child);
  child.kill('SIGTERM');
  await done;
}

/** What one `netpoll_loadgen` run sends. */
export interface LoadOptions {
  /** Connections to 127.0.0.1:port. */
  connections: number;
  /** Replies to wait for before exiting. */
  total: number;
  /** Frames in flight per connection. */
  pipeline: number;
  /** Payload bytes per frame (after the 4-byte length). */
  size: number;
  /** CPU to pin the load generator to, or null. */
  cpu: number | null;
}

/** Runs the C++ load generator against `port`; rejects when it fails. */
export async function runLoadgen(port: number, options: LoadOptions): Promise<void> {
  const args = [port, options.connections, options.total, options.pipeline, options.size];
  const [command, argv] = pinned(options.cpu, loadgenPath, args.map(String));
  const child = track(spawn(command, argv, { stdio: ['ignore', 'ignore', 'inherit'] }));
  const code = await exited(child);
  if (code !== 0) throw new Error(`loadgen exited with ${code ?? child.signalCode}`);
}
