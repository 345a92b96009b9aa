import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { ReportQueue } from './report-queue';

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
  const child = spawn(command, argv, { stdio: [stdin, 'pipe', 'inherit'] });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const lines = new ReportQueue<string>(
    name,
    exited.then(([code, signal]) => signal ?? code),
  );
  createInterface({ input: child.stdout! }).on('line', (line) => lines.feed(line));
  return {
    process: child,
    pid: child.pid!,
    waitForLine: (match, timeoutMs) => lines.next(match, timeoutMs, 'expected output'),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const [code, exitSignal] = await exited;
      return code ?? exitSignal ?? 'unknown';
    },
  };
}
