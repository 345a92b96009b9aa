import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/** A child process started by the harness, with its stdout read as lines. */
export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Resolves with the first stdout line for which `match` returns a value. */
  waitForLine<T>(match: (line: string) => T | undefined, timeoutMs: number): Promise<T>;
  /** Sends `signal` and waits for the exit; returns the exit code (or the signal name). */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * Starts `node script ...args`, pinned to `cpu` with taskset when one is given.
 * stderr is passed through so failures are visible.
 */
export function startNode(script: string, args: readonly string[], cpu: number | null): Child {
  const command = cpu === null ? process.execPath : 'taskset';
  const argv =
    cpu === null ? [script, ...args] : ['-c', String(cpu), process.execPath, script, ...args];
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const waiters = new Set<(line: string) => void>();
  lines.on('line', (line) => {
    for (const waiter of waiters) waiter(line);
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    process: child,
    pid: child.pid!,
    waitForLine(match, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`${script}: no expected output within ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter = (line: string): void => {
          const value = match(line);
          if (value === undefined) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(value);
        };
        waiters.add(waiter);
        exited.then(([code, signal]) => {
          if (!waiters.has(waiter)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          reject(new Error(`${script} exited (${signal ?? code}) before the expected output`));
        });
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const [code, exitSignal] = await exited;
      return code ?? exitSignal ?? 'unknown';
    },
  };
}
