/**
 * The RPC benchmark's child processes: servers and Node clients forked with an IPC channel, the
 * native load generator spawned with its stdout read as JSON lines, each pinned to a CPU with
 * taskset when the machine has two. Both kinds report `{ event: ... }` objects, read here with
 * `nextEvent`.
 *
 * Every child is tracked until it exits. The first one installs the exit hooks: SIGINT/SIGTERM
 * kill every live child, wait (at most a second) until each is reaped and exit with the signal's
 * status; 'exit' (which cannot wait) kills what is left. If the bench is killed outright, the
 * children notice on their own: the Node ones see their IPC channel close, the load generator its
 * stdin.
 */
import {
  type ChildProcess,
  execFileSync,
  fork,
  type Serializable,
  spawn,
} from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { ReportQueue } from './report-queue';

/** An `{ event }` object a child reported. */
export type ChildEvent = { readonly event: string } & Readonly<Record<string, unknown>>;

/** A child of the bench and the events it reported. */
export interface BenchChild {
  readonly process: ChildProcess;
  readonly pid: number;
  /** What it is, for messages. */
  readonly name: string;
  /**
   * Resolves with the first event named `event`, reported before or after this call and not
   * taken by an earlier wait. Rejects when the child exits first or after `timeoutMs`.
   */
  nextEvent(event: string, timeoutMs: number): Promise<ChildEvent>;
  /** Resolves once the child has exited and was reaped. */
  readonly exited: Promise<number | string>;
}

const live = new Set<ChildProcess>();
let hooksInstalled = false;

function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAll);
  for (const [signal, status] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      process.stderr.write(`${signal}: stopping ${live.size} child process(es)\n`);
      const reaped = Promise.all(
        [...live].map((child) => new Promise((resolve) => child.once('exit', resolve))),
      );
      killAll();
      const deadline = new Promise((resolve) => setTimeout(resolve, 1000).unref());
      void Promise.race([reaped, deadline]).then(() => process.exit(status));
    });
  }
}

/** How many live children the bench has (for tests of the cleanup). */
export function liveChildren(): number {
  return live.size;
}

/** True when this machine has two CPUs and taskset to pin to them. */
export function canPin(): boolean {
  if (availableParallelism() < 2) return false;
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Moves this process to `cpu`. */
export function pinSelf(cpu: number): void {
  execFileSync('taskset', ['-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
}

function wrap(
  child: ChildProcess,
  name: string,
  subscribe: (feed: (event: ChildEvent) => void) => void,
): BenchChild {
  installExitHooks();
  live.add(child);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(code ?? signal ?? 'unknown');
    });
    // A failed spawn, kill or send is an 'error' event: unheard, it would throw in the bench.
    // Sends report theirs to their sender (sendTo); a spawn that failed never exits: it ends
    // here, so its waits fail at once instead of at their timeouts.
    child.on('error', (error) => {
      if (child.pid !== undefined) return;
      live.delete(child);
      resolve(`not started: ${error.message}`);
    });
  });
  const events = new ReportQueue<ChildEvent>(name, exited);
  subscribe((event) => events.feed(event));
  return {
    process: child,
    pid: child.pid!,
    name,
    exited,
    nextEvent: (event, timeoutMs) =>
      events.next((item) => (item.event === event ? item : undefined), timeoutMs, `"${event}"`),
  };
}

/** Forks `node script ...args` with an IPC channel, pinned to `cpu` (null: unpinned). */
export function forkChild(
  name: string,
  script: string,
  args: readonly string[],
  cpu: number | null,
): BenchChild {
  const child =
    cpu === null
      ? fork(script, [...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      : fork(script, [...args], {
          execPath: 'taskset',
          execArgv: ['-c', String(cpu), process.execPath],
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        });
  return wrap(child, name, (feed) => {
    child.on('message', (message: ChildEvent) => feed(message));
  });
}

/**
 * Spawns `file ...args` pinned to `cpu`, its stdout read as JSON lines (other lines are ignored).
 * Its stdin is a pipe the bench never writes to: it closes when the bench is gone.
 */
export function spawnChild(
  name: string,
  file: string,
  args: readonly string[],
  cpu: number | null,
): BenchChild {
  const [command, argv] =
    cpu === null ? [file, [...args]] : ['taskset', ['-c', String(cpu), file, ...args]];
  const child = spawn(command, argv, { stdio: ['pipe', 'pipe', 'inherit'] });
  return wrap(child, name, (feed) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      feed(JSON.parse(line) as ChildEvent);
    });
  });
}

/**
 * Sends `message` (`what`, for the error) to a forked child; rejects when it could not be
 * written. A child on its way out (killed, crashed) can have closed its IPC channel before its
 * exit is seen here: the write then fails (EPIPE, or the channel is closed already), which
 * `ChildProcess.send` without a callback reports as an 'error' event on the child — an uncaught
 * exception in the bench.
 */
export function sendTo(child: BenchChild, message: Serializable, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.process.send(message, (error) => {
      if (error) reject(new Error(`${child.name}: ${what} not sent: ${error.message}`));
      else resolve();
    });
  });
}

/**
 * Stops a child and waits until it is reaped: `ask` (a polite request, e.g. an IPC message or
 * SIGTERM) first, SIGKILL after `graceMs` — or at once when `ask` throws or rejects (a request
 * that could not be sent: the child's channel is gone).
 */
export async function stopChild(
  child: BenchChild,
  ask: () => unknown,
  graceMs = 5000,
): Promise<number | string> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return child.exited;
  const kill = (): void => {
    child.process.kill('SIGKILL');
  };
  try {
    Promise.resolve(ask()).catch(kill);
  } catch {
    kill();
  }
  const timer = setTimeout(kill, graceMs);
  const status = await child.exited;
  clearTimeout(timer);
  return status;
}
