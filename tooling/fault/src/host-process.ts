/**
 * The harness side of a host process: `node <script>` started inside a host's network
 * namespace (`ip netns exec`, which execs, so the pid is node's), optionally under a descriptor
 * limit (`prlimit --nofile`, which execs too), with an IPC channel for requests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { distScript } from './dist-script';

export interface HostProcessOptions {
  /** For messages. */
  readonly name: string;
  readonly ns: string;
  /** The dist entry point (see distScript). */
  readonly script: string;
  readonly args?: readonly string[];
  /** RLIMIT_NOFILE of the process (the soft limit: the hard one stays, so it can be raised). */
  readonly nofile?: number;
  readonly readyTimeoutMs?: number;
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class HostProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly ready: Promise<Record<string, unknown>>;
  readonly exited: Promise<ExitStatus>;
  #exit: ExitStatus | null = null;
  #nextId = 1;
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  /** The last lines it wrote to stderr and stdout, for failure messages. */
  readonly output: string[] = [];

  constructor(options: HostProcessOptions) {
    this.name = options.name;
    const node = [
      process.execPath,
      '--expose-gc',
      distScript(options.script),
      ...(options.args ?? []),
    ];
    const inNs = ['ip', 'netns', 'exec', options.ns, ...node];
    const argv =
      options.nofile === undefined
        ? inNs
        : ['prlimit', `--nofile=${options.nofile}:`, '--', ...inNs];
    this.child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (text: string) => this.#note(...text.split('\n').filter(Boolean)));
    }
    this.exited = new Promise((resolve) => {
      const ended = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (this.#exit !== null) return;
        this.#exit = { code, signal };
        for (const { reject } of this.#pending.values()) reject(this.#gone());
        this.#pending.clear();
        resolve(this.#exit);
      };
      this.child.once('exit', ended);
      // A failed spawn, kill or send is an event; unheard, it would throw in the harness. Sends
      // report theirs to their request (below); the rest is kept for failure messages. A process
      // that never started has no 'exit': it ends here, so nothing waits for it.
      this.child.on('error', (error) => {
        this.#note(`${this.name}: ${error.message}`);
        if (this.child.pid === undefined) ended(null, null);
      });
    });
    const readyTimeout = options.readyTimeoutMs ?? 20_000;
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`${this.name} not ready within ${readyTimeout} ms: ${this.#tail()}`)),
        readyTimeout,
      );
      this.child.on('message', (message: Record<string, unknown>) => {
        if (message.type === 'ready') {
          clearTimeout(timer);
          resolve(message);
          return;
        }
        const waiter = this.#pending.get(message.id as number);
        if (waiter === undefined) return;
        this.#pending.delete(message.id as number);
        if ('error' in message) waiter.reject(new Error(`${this.name}: ${message.error}`));
        else waiter.resolve(message.reply);
      });
      void this.exited.then(() => {
        clearTimeout(timer);
        reject(this.#gone());
      });
    });
    this.ready.catch(() => {});
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.#exit === null;
  }

  /** Sends a request; rejects after `timeoutMs` (a stopped host does not answer). */
  request<T>(type: string, body?: unknown, timeoutMs = 10_000): Promise<T> {
    if (this.#exit !== null) return Promise.reject(this.#gone());
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.name}: no answer to ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      // The channel closes before the exit is seen (a host on its way out): the write fails
      // with EPIPE or a closed channel, and the request fails with it.
      this.child.send({ id, type, body }, (error) => {
        if (!error || !this.#pending.has(id)) return;
        this.#pending
          .get(id)!
          .reject(new Error(`${this.name}: ${type} not sent: ${error.message}`));
        this.#pending.delete(id);
      });
    });
  }

  signal(signal: NodeJS.Signals): void {
    if (this.#exit === null) this.child.kill(signal);
  }

  /** Waits for the exit; SIGKILLs it when it takes longer than `timeoutMs`. */
  async stop(timeoutMs = 0, signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitStatus> {
    if (this.#exit !== null) return this.#exit;
    this.signal(signal);
    const timer = setTimeout(() => this.signal('SIGKILL'), timeoutMs);
    const status = await this.exited;
    clearTimeout(timer);
    return status;
  }

  #note(...lines: string[]): void {
    this.output.push(...lines);
    if (this.output.length > 40) this.output.splice(0, this.output.length - 40);
  }

  #gone(): Error {
    return new Error(`${this.name} exited (${JSON.stringify(this.#exit)}): ${this.#tail()}`);
  }

  #tail(): string {
    return this.output.slice(-10).join('\n');
  }
}
