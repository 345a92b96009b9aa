/**
 * The native addon's interface, declared once (house style B.7), and its lazy loader.
 *
 * Every native method returns a number: a non-negative result or `-errno`. None of them throws
 * for an OS failure; TypeScript builds the errors. All state is per thread (per Node-API env).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NetpollError } from './errors';

/** Engine limits passed to {@link NativeBinding.init}. */
export interface NativeLimits {
  /** Events taken per batch. */
  maxEvents: number;
  /** Bytes read per batch before the remaining readable sockets wait for the next one. */
  maxBatchBytes: number;
  /** Upper bound of one `read()`, in bytes. */
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

/**
 * The places the addon is looked for, in order (Part C.5: prebuilds first, then build/).
 * `NETPOLL_ADDON_PATH` (development: an AddressSanitizer build) is tried first when set.
 */
export function bindingCandidates(): string[] {
  const root = join(__dirname, '..');
  const override = process.env.NETPOLL_ADDON_PATH;
  return [
    ...(override ? [override] : []),
    join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'netpoll_core.node'),
    join(root, 'build', 'Release', 'netpoll_core.node'),
  ];
}

/**
 * Loads the addon on first use (never at import time). Throws `ERR_NETPOLL_UNSUPPORTED_PLATFORM`
 * on Windows and `ERR_NETPOLL_BINDING_LOAD` (with the paths tried and what to do) when no
 * candidate loads.
 */
export function loadBinding(): NativeBinding {
  if (cached !== undefined) return cached;
  if (process.platform === 'win32') {
    throw new NetpollError(
      'ERR_NETPOLL_UNSUPPORTED_PLATFORM',
      '@netpoll/core supports Linux (epoll) and macOS/BSD (kqueue); Windows is not supported',
    );
  }
  const tried: string[] = [];
  let lastError: unknown;
  for (const candidate of bindingCandidates()) {
    if (!existsSync(candidate)) {
      tried.push(`${candidate} (missing)`);
      continue;
    }
    try {
      cached = require(candidate) as NativeBinding;
      return cached;
    } catch (error) {
      tried.push(`${candidate} (${(error as Error).message})`);
      lastError = error;
    }
  }
  throw new NetpollError(
    'ERR_NETPOLL_BINDING_LOAD',
    `could not load the @netpoll/core addon; tried: ${tried.join('; ')}. ` +
      'Build it with `pnpm --filter @netpoll/core build` (needs cmake and a C++17 compiler).',
    { cause: lastError },
  );
}
