import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/** A child process started by the harness, with its stdout read as lines. */
export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  /**
   * Resolves with the first stdout line, printed before or after this call and
   * not taken by an earlier wait, for which `match` returns a value.
   */
  waitForLine<T>(match: (line: string) => T | undefined, timeoutMs: number): Promise<T>;
  /** Sends `signal` and waits for the exit; returns the exit code (or the signal name). */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * Starts `node script ...args`, pinned to `cpu` with taskset when one is given.
 * stderr is passed through so failures are visible.
 */
export function startNode(script: string, args: readonly string[], cpu: number | null): Child {
  return startProcess(process.execPath, [script, ...args], cpu, script);
}

/**
 * Starts `file ...args`, pinned to `cpu` with taskset when one is given (taskset execs it: the
 * child's pid is the program's). stderr is passed through. `stdin: 'pipe'` gives it a stdin the
 * harness never writes to, for programs that exit when their stdin closes (the C echo server).
 */
export function startProcess(
  file: string,
  args: readonly string[],
  cpu: number | null,
  name: string = file,
  stdin: 'ignore' | 'pipe' = 'ignore',
): Child {
  const command = cpu === null ? file : 'taskset';
  const argv = cpu === null ? [...args] : ['-c', String(cpu), file, ...args];
  const script = name;
  const child = spawn(command, argv, { stdio: [stdin, 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  // Lines nobody has taken yet: a line printed before its wait starts must not be lost.
  const backlog: string[] = [];
  const waiters = new Set<(line: string) => boolean>();
  lines.on('line', (line) => {
    for (const waiter of waiters) if (waiter(line)) return;
    backlog.push(line);
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    process: child,
    pid: child.pid!,
    waitForLine(match, timeoutMs) {
      for (let index = 0; index < backlog.length; index++) {
        const value = match(backlog[index]!);
        if (value === undefined) continue;
        backlog.splice(index, 1);
        return Promise.resolve(value);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`${script}: no expected output within ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter = (line: string): boolean => {
          const value = match(line);
          if (value === undefined) return false;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(value);
          return true;
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
