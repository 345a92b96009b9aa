/**
 * The native addon's interface, declared once, and its lazy loader.
 *
 * Every native method returns a number: a non-negative result or `-errno`. None of them throws
 * for an OS failure; TypeScript builds the errors. All state is per thread (per Node-API env).
 */
import { Buffer } from 'node:buffer';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { NetpollError } from './errors';

/** Engine limits passed to {@link NativeBinding.init}. */
export interface NativeLimits {
  /** Events taken per batch. */
  maxEvents: number;
  /** Bytes read per batch before the remaining readable sockets wait for the next one. */
  maxBatchBytes: number;
  /** Upper bound of one `recv()`, in bytes. */
  readSize: number;
}

/** The addon, one instance per thread. Exposed for testing and advanced use (fake bindings). */
export interface NativeBinding {
  /** `RLIMIT_NOFILE` (capped at 2^20): the size of the per-fd state table. */
  maxFds(): number;
  /** The native layout constants, for the agreement test. */
  layout(): Record<string, number>;
  /** Starts the reactor on this thread's loop. 0 or -errno (`-EALREADY` on a second call). */
  init(
    control: ArrayBuffer,
    fdState: ArrayBuffer,
    stats: ArrayBuffer,
    dispatcher: () => void,
    limits: NativeLimits,
  ): number;
  /** Registers memory; returns its slab index or -errno. */
  addSlab(buffer: ArrayBuffer, inbound: boolean): number;
  /** Unregisters an outbound slab whose memory no pending write uses. */
  releaseSlab(index: number): number;
  /**
   * Creates a listener (not accepting yet); `reusePort` 1 sets SO_REUSEPORT. Returns the fd or
   * -errno (syscall socket/bind/listen).
   */
  listen(family: number, host: string, port: number, backlog: number, reusePort: number): number;
  /**
   * Registers a duplicate of the listening socket `fd` (which stays owned by its creator) as a
   * listener of this thread's reactor, not accepting yet. The duplicate shares the accept queue;
   * this reactor owns and closes it. Returns the new fd or -errno (`-EINVAL`: not listening).
   */
  adoptListener(fd: number): number;
  /** Starts a non-blocking connect; completion arrives as a connect record. fd or -errno. */
  connect(family: number, host: string, port: number, headerSize: number, maxFrame: number): number;
  /** Framing of a connection, or of the connections a listener accepts. */
  setFraming(fd: number, headerSize: number, maxFrame: number): number;
  /** 1 = read (or accept), 0 = pause. */
  setReading(fd: number, reading: number): number;
  /** TCP keep-alive idle = interval = `seconds`; 0 disables. */
  setKeepAlive(fd: number, seconds: number): number;
  /**
   * Closes an fd. With `lingerMs` > 0 a connection that owes its peer bytes (queued output,
   * unacknowledged output, unread input) lingers up to that long, and a listener first accepts
   * its backlog and closes those connections lingering; 0 closes at once (pending output
   * attempted once). 0 or -errno.
   */
  close(fd: number, lingerMs?: number): number;
  /**
   * Limits a connection's input to the bytes already in the kernel; a kRecordInputEnd record
   * follows once they are read. Returns that byte count (0: no record follows) or -errno.
   */
  endInput(fd: number): number;
  /** Bytes of `fd` the peer has not acknowledged (Linux SIOCOUTQ), or -errno. For tests. */
  unacknowledgedBytes(fd: number): number;
  /** Processes the submission queue now (used only when it is full). Returns entries processed. */
  flush(): number;
  /** Local (`peer` 0) or remote (`peer` 1) address as text, or -errno. */
  address(fd: number, peer: number): string | number;
}

let cached: NativeBinding | undefined;

/** The package folder: `dist/..` when installed, `src/..` under the tests. */
const kPackageDir = join(__dirname, '..');

/** The C library of a Linux system: `gnu` (glibc) or `musl`. */
export type Libc = 'gnu' | 'musl';

/**
 * The C library this process runs on, as detect-libc finds it without the dependency: glibc's
 * `ldd` is a script that names the GNU C Library; otherwise `process.report` (about 5 ms) says
 * whether a glibc is loaded.
 */
function detectLibc(): Libc {
  try {
    const fd = openSync('/usr/bin/ldd', 'r');
    try {
      const head = Buffer.alloc(4096);
      const text = head.toString('latin1', 0, readSync(fd, head, 0, head.length, 0));
      if (text.includes('GNU C Library')) return 'gnu';
    } finally {
      closeSync(fd);
    }
  } catch {
    // No ldd: ask the process report below.
  }
  return glibcVersion() === undefined ? 'musl' : 'gnu';
}

function glibcVersion(): string | undefined {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } };
  return report?.header?.glibcVersionRuntime;
}

/**
 * The binary target of a system: `<platform>-<arch>`, with `-gnu` or `-musl` on Linux. The
 * prebuilt binary of target T ships in the package `@netpoll/core-T`.
 */
export function bindingTarget(
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
  libc: Libc | undefined = platform === 'linux' ? detectLibc() : undefined,
): string {
  return platform === 'linux' ? `${platform}-${arch}-${libc ?? 'gnu'}` : `${platform}-${arch}`;
}

/** One place the addon is looked for. */
export interface BindingCandidate {
  /** `override`: NETPOLL_ADDON_PATH; `package`: the prebuilt package; `build`: a local build. */
  kind: 'override' | 'package' | 'build';
  /** What is passed to `require`: a file path, or the package name. */
  request: string;
}

/**
 * The places the addon is looked for, in order: `NETPOLL_ADDON_PATH` when set (development: an
 * AddressSanitizer build), the prebuilt package `@netpoll/core-<target>` (an optional dependency
 * of `@netpoll/core`), then a build from source in this package's `build/Release/`.
 */
export function bindingCandidates(target: string = bindingTarget()): BindingCandidate[] {
  const override = process.env.NETPOLL_ADDON_PATH;
  return [
    ...(override ? [{ kind: 'override' as const, request: override }] : []),
    { kind: 'package', request: `@netpoll/core-${target}` },
    { kind: 'build', request: join(kPackageDir, 'build', 'Release', 'netpoll_core.node') },
  ];
}

/** The targets `@netpoll/core` has prebuilt packages for (its optional dependencies). */
function prebuiltTargets(): string[] {
  try {
    const manifest = require(join(kPackageDir, 'package.json')) as {
      optionalDependencies?: Record<string, string>;
    };
    return Object.keys(manifest.optionalDependencies ?? {})
      .filter((name) => name.startsWith('@netpoll/core-'))
      .map((name) => name.slice('@netpoll/core-'.length));
  } catch {
    return [];
  }
}

/** Why a candidate did not load, for the error message. */
function describeFailure(candidate: BindingCandidate, error: unknown): string {
  const code = (error as { code?: string } | null)?.code;
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  if (candidate.kind !== 'package') {
    return code === 'MODULE_NOT_FOUND' ? 'missing' : `does not load: ${message}`;
  }
  if (code !== 'MODULE_NOT_FOUND') return `installed, but does not load: ${message}`;
  try {
    require.resolve(`${candidate.request}/package.json`);
    return 'installed without its binary (in a checkout of the repository it is added at release)';
  } catch {
    return 'not installed';
  }
}

/**
 * Loads the addon on first use (never at import time). Throws `ERR_NETPOLL_UNSUPPORTED_PLATFORM`
 * on Windows, and `ERR_NETPOLL_BINDING_LOAD` when no candidate loads, naming the platform, the
 * package it looked for, why each candidate failed, and the command that builds the addon from
 * source in this installed copy.
 */
export function loadBinding(): NativeBinding {
  if (cached !== undefined) return cached;
  if (process.platform === 'win32') {
    throw new NetpollError(
      'ERR_NETPOLL_UNSUPPORTED_PLATFORM',
      '@netpoll/core supports Linux (epoll) and macOS/BSD (kqueue); Windows is not supported',
    );
  }
  const target = bindingTarget();
  const tried: string[] = [];
  let lastError: unknown;
  for (const candidate of bindingCandidates(target)) {
    if (candidate.kind !== 'package' && !existsSync(candidate.request)) {
      tried.push(`${candidate.request}: missing`);
      continue;
    }
    try {
      cached = require(candidate.request) as NativeBinding;
      return cached;
    } catch (error) {
      tried.push(`${candidate.request}: ${describeFailure(candidate, error)}`);
      lastError = error;
    }
  }
  throw new NetpollError('ERR_NETPOLL_BINDING_LOAD', bindingLoadMessage(target, tried), {
    cause: lastError,
  });
}

function bindingLoadMessage(target: string, tried: string[]): string {
  const glibc = process.platform === 'linux' ? glibcVersion() : undefined;
  const platform = `${process.platform}-${process.arch}${glibc ? ` (glibc ${glibc})` : ''}`;
  const prebuilt = prebuiltTargets();
  const packageName = `@netpoll/core-${target}`;
  const lines = [
    `could not load the @netpoll/core native addon on ${platform}. It looked for:`,
    ...tried.map((line, index) => `  ${index + 1}. ${line}`),
  ];
  const packageLine = tried.find((line) => line.startsWith(`${packageName}: `)) ?? '';
  if (!prebuilt.includes(target)) {
    lines.push(
      `There is no prebuilt binary for ${target} (prebuilt: ${prebuilt.join(', ') || 'none'}).`,
    );
  } else if (packageLine.endsWith(': not installed')) {
    lines.push(
      `${packageName} is an optional dependency of @netpoll/core, installed with it unless ` +
        'optional dependencies were left out (npm --omit=optional, pnpm --no-optional, or a ' +
        'lockfile made without it): reinstall @netpoll/core with them.',
    );
  } else if (
    packageLine.includes(': installed, but does not load') &&
    target.startsWith('linux-')
  ) {
    lines.push('The prebuilt Linux binaries need glibc >= 2.17 and libstdc++ of GCC >= 5.');
  }
  if (
    existsSync(join(kPackageDir, 'test')) &&
    existsSync(join(kPackageDir, '..', '..', 'pnpm-workspace.yaml'))
  ) {
    // A contributor's checkout (a published copy ships neither test/ nor the workspace file).
    lines.push(
      'In this checkout of the @netpoll repository, build it: pnpm --filter @netpoll/core build',
    );
    return lines.join('\n');
  }
  const script = join(kPackageDir, 'scripts', 'build-from-source.js');
  lines.push(
    'To build the addon from source in this installed copy (needs cmake >= 3.15, a C++17 ' +
      'compiler and npm, which fetches cmake-js and node-addon-api for the build only), run:',
    `  node "${script}"`,
    `It writes ${join(kPackageDir, 'build', 'Release', 'netpoll_core.node')}, loaded from then on.`,
  );
  return lines.join('\n');
}
