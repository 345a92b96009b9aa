/** Runs system commands (ip, nft, prlimit) with a time limit; a failure names the command. */
import { execFile, execFileSync } from 'node:child_process';

/** Runs `command args…`, resolves with its stdout; rejects with its stderr on failure. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { timeout: options.timeoutMs ?? 10_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`${command} ${args.join(' ')}: ${stderr.trim() || error.message}`));
        } else {
          resolve(stdout);
        }
      },
    );
    if (options.input !== undefined) {
      // A command that fails before it read its input (ip: no such namespace) closes its stdin:
      // the write fails with EPIPE, an 'error' event of the stream that, unheard, would throw in
      // the harness. The command's own failure (its status, its stderr) is reported above.
      child.stdin?.on('error', () => {});
      child.stdin?.end(options.input);
    }
  });
}

/** The synchronous form, for cleanup at process exit; errors are returned, not thrown. */
export function runCommandSync(command: string, args: readonly string[]): string | Error {
  try {
    return execFileSync(command, args, { encoding: 'utf8', timeout: 10_000, stdio: 'pipe' });
  } catch (error) {
    return error as Error;
  }
}
