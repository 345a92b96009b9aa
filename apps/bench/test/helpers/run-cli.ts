import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterTest } from '@netpoll/jest-config/cleanup';

/** How a command-line run ended. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The child's stdin: ignored (EOF at once), or a pipe left open until `closeStdinAfterMs`. */
export interface RunOptions {
  readonly stdin?: 'ignore' | 'pipe';
  /** With `stdin: 'pipe'`: close it after this many ms (left open until the exit otherwise). */
  readonly closeStdinAfterMs?: number;
}

/**
 * Runs `file ...args` to its exit and returns its exit code and output. A run still going when
 * the test ends (it failed or timed out) is killed.
 */
export async function runProcess(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<CliRun> {
  // stdout and stderr are pipes (the stdio option is not a literal tuple, hence the `!`s).
  const child = spawn(file, [...args], { stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'] });
  afterTest(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  if (options.closeStdinAfterMs !== undefined) {
    setTimeout(() => child.stdin?.end(), options.closeStdinAfterMs);
  }
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

/** Runs `node script ...args` to its exit (see {@link runProcess}). */
export function runCli(script: string, args: readonly string[]): Promise<CliRun> {
  return runProcess(process.execPath, [script, ...args]);
}
