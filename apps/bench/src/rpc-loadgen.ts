/**
 * The native load generator of the `netpoll-native-load` stack: `loadgen-rpc/` (netpoll_rpc_loadgen,
 * a C++ epoll client speaking @netpoll/rpc's wire format), built with cmake into
 * `build/loadgen-rpc/`: configured once, then brought up to date on every use (a no-op when
 * nothing changed, so an edited source is never measured stale). Processes that build at the same
 * time (test files in parallel workers, a bench next to them) take turns through a lock directory.
 * Linux only.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CallResult, ClientPlan } from './rpc-client';

const kPackageRoot = join(__dirname, '..');
const kSourceDir = join(kPackageRoot, 'loadgen-rpc');
const kBuildDir = join(kPackageRoot, 'build', 'loadgen-rpc');

/** Path of the load generator executable. */
export const kRpcLoadgenPath = join(kBuildDir, 'netpoll_rpc_loadgen');

const kLockDir = join(kPackageRoot, 'build', 'loadgen-rpc.lock');
/** A lock older than this was left by a build that died; a build takes a few seconds. */
const kStaleLockMs = 120_000;

/** Runs `build` while holding the build lock. */
function locked<T>(build: () => T): T {
  mkdirSync(join(kPackageRoot, 'build'), { recursive: true });
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      mkdirSync(kLockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      try {
        if (Date.now() - statSync(kLockDir).mtimeMs > kStaleLockMs) {
          rmSync(kLockDir, { recursive: true, force: true });
        }
      } catch {
        // Released meanwhile: try again.
      }
      Atomics.wait(sleeper, 0, 0, 50);
    }
  }
  try {
    return build();
  } finally {
    rmSync(kLockDir, { recursive: true, force: true });
  }
}

function run(args: readonly string[]): void {
  try {
    execFileSync('cmake', [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const failure = error as { stdout?: Buffer; stderr?: Buffer; message: string };
    throw new Error(
      `cmake ${args.join(' ')} failed: ${failure.message}\n${failure.stdout?.toString() ?? ''}${failure.stderr?.toString() ?? ''}`,
    );
  }
}

/**
 * Builds netpoll_rpc_loadgen if it is missing or older than its sources and returns its path.
 * Throws (with cmake's output) when that is not possible: not Linux, no cmake or no compiler.
 */
export function ensureRpcLoadgen(): string {
  if (process.platform !== 'linux') {
    throw new Error('netpoll_rpc_loadgen is Linux only (epoll)');
  }
  return locked(() => {
    if (!existsSync(join(kBuildDir, 'CMakeCache.txt'))) {
      run(['-S', kSourceDir, '-B', kBuildDir, '-DCMAKE_BUILD_TYPE=Release']);
    }
    run(['--build', kBuildDir]);
    if (!existsSync(kRpcLoadgenPath)) throw new Error(`cmake built no ${kRpcLoadgenPath}`);
    return kRpcLoadgenPath;
  });
}

/** What one load generator run does: a Node client's plan without the stack. */
export type NativeLoadPlan = Omit<ClientPlan, 'stack'>;

/**
 * The framing the load generator speaks: @netpoll/rpc's, the `net` stack's (rpc-net.ts), or the
 * same with the call id counted in the length (a plain length-header frame, which the C echo
 * server returns unchanged).
 */
export type NativeLoadWire = 'rpc' | 'net' | 'frame';

/** The load generator's arguments for `plan`, at most one connection per caller. */
export function nativeLoadArgs(plan: NativeLoadPlan, wire: NativeLoadWire = 'rpc'): string[] {
  const separator = plan.address.lastIndexOf(':');
  return [
    ...['--host', plan.address.slice(0, separator).replace(/^\[|\]$/g, '')],
    ...['--port', plan.address.slice(separator + 1)],
    ...['--connections', String(Math.min(plan.connections, plan.callers))],
    ...['--callers', String(plan.callers)],
    ...['--payload', String(plan.payloadSize)],
    ...['--warmup', String(plan.warmupMs)],
    ...['--duration', String(plan.durationMs)],
    ...['--timeout', String(plan.timeoutMs)],
    ...['--method', 'echo'],
    ...['--wire', wire],
  ];
}

/**
 * The load generator's last line: a Node client's figures with the first failure's code for its
 * message ('' when none failed) and its peak RSS, without allocation figures.
 */
export type NativeLoadResult = Omit<CallResult, 'firstError' | 'alloc'> & {
  readonly event: 'result';
  readonly firstErrorCode: string;
  readonly peakRssBytes: number;
};
