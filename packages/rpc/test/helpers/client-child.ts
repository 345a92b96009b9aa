/**
 * A server in a child process (fixtures/client-server-child.js, on the built dist/), for the
 * tests that need a server to die (SIGKILL), hang (SIGSTOP) or shut down on a signal (SIGTERM)
 * while the client lives on. The child is killed after the test, passed or failed (continued
 * first, so a stopped child dies too).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterTest } from '@netpoll/jest-config/cleanup';

const kFixture = join(__dirname, '..', 'fixtures', 'client-server-child.js');

/** How a child process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerChild {
  readonly process: ChildProcess;
  /** The address it listens on (real port, or the Unix path). */
  readonly address: string;
  /** The JSON lines it printed so far. */
  readonly lines: Array<Record<string, unknown>>;
  /** Resolves when it exited. */
  readonly exited: Promise<Exit>;
  /** What it wrote to stderr. */
  stderr(): string;
}

/** Starts a server child on `address` and resolves once it accepts there. */
export function startServerChild(address = '127.0.0.1:0'): Promise<ServerChild> {
  const child = spawn(process.execPath, [kFixture, address], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    stderr += text;
  });
  let exit: Exit | null = null;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });
  afterTest(async () => {
    if (exit !== null) return;
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
  });
  const lines: Array<Record<string, unknown>> = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the server child did not start within 10 s: ${stderr}`)),
      10000,
    );
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the server child exited (${code ?? signal}) before listening: ${stderr}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      lines.push(parsed);
      if (typeof parsed.address === 'string') {
        clearTimeout(timer);
        resolve({
          process: child,
          address: parsed.address,
          lines,
          exited,
          stderr: () => stderr,
        });
      }
    });
  });
}
