import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterTest } from '@netpoll/jest-config/cleanup';

/** How a command-line run ended. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `node script ...args` (with `env`, default this process's) to its exit and returns its
 * exit code and output. A run still going when the test ends (it failed or timed out) is killed.
 */
export async function runCli(
  script: string,
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
): Promise<CliRun> {
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: env ?? process.env,
  });
  afterTest(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}
