/**
 * The built RPC server (`dist/server/server-cli.js`) as a child process, exactly as users start it: its
 * JSON log lines are parsed as they come, `ready` gives both addresses (ports 0: the kernel picks
 * them), and the process is killed after the test if it still runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterTest } from '@netpoll/jest-config/cleanup';

export const kServerCli = join(__dirname, '..', '..', 'dist', 'server', 'server-cli.js');
export const kClientCli = join(__dirname, '..', '..', 'dist', 'client', 'client-cli.js');

/** This process's environment without ECHO_* variables: a test sets the ones it means. */
export function cleanEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => !entry[0].startsWith('ECHO_') && entry[1] !== undefined,
    ),
  );
}

/** One parsed log line. */
export type LogLine = Record<string, unknown> & { msg: string; level: number };

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly address: string;
  readonly metricsAddress: string;
  readonly logs: LogLine[];
  /** Everything written to stderr. */
  stderr(): string;
  /** Resolves with the first log line (seen or to come) whose `msg` is `msg`. */
  waitForLog(msg: string, timeout?: number): Promise<LogLine>;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
}

/** Starts the server with `args` (ports 0 unless given) and waits for its `ready` line. */
export async function startServerProcess(
  args: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [kServerCli, '--port', '0', '--metrics-port', '0', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...cleanEnv(), ...env },
    },
  );
  afterTest(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const logs: LogLine[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as LogLine);
    } catch {
      logs.push({ msg: `unparsed: ${line}`, level: 0 });
    }
    for (const wake of waiters.splice(0)) wake();
  });
  const waitForLog = (msg: string, timeout = 10_000): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `no "${msg}" log line within ${timeout} ms; lines: ${JSON.stringify(logs)}; stderr: ${stderr}`,
            ),
          ),
        timeout,
      );
      const check = (): void => {
        const line = logs.find((entry) => entry.msg === msg);
        if (line !== undefined) {
          clearTimeout(timer);
          resolve(line);
        } else waiters.push(check);
      };
      check();
      // An exit before the line ends the wait at once, with what was printed.
      void exited.then(() => setTimeout(check, 50));
    });
  const ready = await waitForLog('ready');
  return {
    child,
    address: ready.address as string,
    metricsAddress: ready.metricsAddress as string,
    logs,
    stderr: () => stderr,
    waitForLog,
    exited,
  };
}

/** GET `path` on the operations port: status and body. */
export async function httpGet(
  address: string,
  path: string,
): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://${address}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: response.status, body: await response.text() };
}

/** The value of one sample in Prometheus text (`name{labels} value`), or undefined. */
export function sample(
  metrics: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of metrics.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const pair of (match[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)) {
      found[pair[1]!] = pair[2]!;
    }
    const keys = Object.keys(labels);
    if (
      keys.length === Object.keys(found).length &&
      keys.every((key) => found[key] === labels[key])
    ) {
      return Number(match[4]);
    }
  }
  return undefined;
}

/** The sum of every sample of `name` (all label sets). */
export function sum(metrics: string, name: string): number {
  let total = 0;
  for (const line of metrics.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (match !== null && match[1] === name) total += Number(match[3]);
  }
  return total;
}
