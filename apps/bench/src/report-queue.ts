/**
 * What a child process reports (stdout lines, IPC messages), kept until a wait takes it: a report
 * that arrives before its wait starts is not lost. The echo bench's `server-process.ts` and the
 * RPC bench's `rpc-children.ts` both read their children through it.
 */
export class ReportQueue<T> {
  readonly #name: string;
  readonly #exited: Promise<unknown>;
  /** Reports nobody has taken yet. */
  readonly #backlog: T[] = [];
  readonly #waiters = new Set<(report: T) => boolean>();

  /** `name` names the child in errors; `exited` resolves with its exit status once it is gone. */
  constructor(name: string, exited: Promise<unknown>) {
    this.#name = name;
    this.#exited = exited;
  }

  /** Hands `report` to the first wait that takes it, else keeps it. */
  feed(report: T): void {
    for (const waiter of this.#waiters) if (waiter(report)) return;
    this.#backlog.push(report);
  }

  /**
   * Resolves with the value `match` returns for the first report (kept or to come, not taken by
   * an earlier wait) it returns one for. Rejects after `timeoutMs`, or when the child exits first;
   * `what` says what was awaited in those errors.
   */
  next<R>(match: (report: T) => R | undefined, timeoutMs: number, what: string): Promise<R> {
    const backlog = this.#backlog;
    for (let index = 0; index < backlog.length; index++) {
      const value = match(backlog[index]!);
      if (value === undefined) continue;
      backlog.splice(index, 1);
      return Promise.resolve(value);
    }
    const waiters = this.#waiters;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`${this.#name}: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (report: T): boolean => {
        const value = match(report);
        if (value === undefined) return false;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve(value);
        return true;
      };
      waiters.add(waiter);
      void this.#exited.then((status) => {
        if (!waiters.has(waiter)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        reject(new Error(`${this.#name} exited (${String(status)}) before ${what}`));
      });
    });
  }
}
