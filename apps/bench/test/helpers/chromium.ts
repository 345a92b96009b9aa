/**
 * Debian's headless Chromium, for the report's browser test: found on the PATH (or at
 * $CHROMIUM), run as root with --no-sandbox, each run bounded by a timeout so a hung browser
 * fails the test instead of the CI job.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const kChromiumMissing =
  "Debian's chromium is needed to check the report in a real browser, and none was found: " +
  'install it with `apt-get update && apt-get install -y chromium` (.ci/run does), ' +
  'or set CHROMIUM to a Chromium or Chrome executable';

/** The browser's path; throws {@link kChromiumMissing} when there is none. */
export function findChromium(): string {
  const fromEnv = process.env.CHROMIUM;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM is ${fromEnv}, which does not exist`);
    return fromEnv;
  }
  const candidates = [
    ...['chromium', 'chromium-browser', 'google-chrome'].map((name) => {
      try {
        return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      } catch {
        return undefined;
      }
    }),
  ];
  const found = candidates.find((path) => path !== undefined && path !== '');
  if (found === undefined) throw new Error(kChromiumMissing);
  return found;
}

/** Runs headless `chromium ...args URL`; resolves with its stdout, rejects after `timeoutMs`. */
export function runChromium(
  chromium: string,
  args: readonly string[],
  timeoutMs = 60_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--hide-scrollbars',
        '--force-device-scale-factor=1',
        '--no-first-run',
        ...args,
      ],
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error !== null) {
          reject(new Error(`chromium ${args.join(' ')} failed: ${error.message}\n${stderr}`));
        } else {
          resolve(stdout);
        }
      },
    );
  });
}
