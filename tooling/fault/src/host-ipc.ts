/**
 * The host side of the harness's IPC: a host process answers requests `{ id, type, body }` with
 * `{ id, reply }` or `{ id, error }`, announces itself with `{ type: 'ready' }`, and exits when
 * the channel closes (the harness is gone: nothing may outlive it).
 */
import { readdirSync } from 'node:fs';

export type RequestHandler = (body: unknown) => unknown;

/** Descriptors and RSS of this process, after a full GC when the process runs with --expose-gc. */
export interface ResourceSample {
  readonly fd: number;
  readonly rss: number;
}

export function sampleResources(): ResourceSample {
  (globalThis as { gc?: () => void }).gc?.();
  let fd = -1; // unknown: the process is out of descriptors (the listing needs one)
  try {
    // The listing's own descriptor is among those listed.
    fd = readdirSync('/proc/self/fd').length - 1;
  } catch {}
  return { fd, rss: process.memoryUsage().rss };
}

export function serveHarness(handlers: Record<string, RequestHandler>): void {
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: { id?: number; type?: string; body?: unknown }) => {
    const { id, type } = message;
    if (typeof id !== 'number' || typeof type !== 'string') return;
    const handler = handlers[type] ?? (type === 'resources' ? sampleResources : undefined);
    if (handler === undefined) {
      process.send?.({ id, error: `unknown request ${type}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(message.body))
      .then(
        (reply) => process.send?.({ id, reply }),
        (error: Error) => process.send?.({ id, error: String(error?.stack ?? error) }),
      );
  });
}

/** Tells the harness the host is up, with what it wants known (its address). */
export function announceReady(details: Record<string, unknown> = {}): void {
  process.send?.({ type: 'ready', ...details });
}

/** `--name value` pairs of argv. */
export function parseArgs(argv: readonly string[]): Record<string, string> {
  const args: Record<string, string> = {};
  for (let i = 0; i + 1 < argv.length; i += 2) args[argv[i]!.replace(/^--/, '')] = argv[i + 1]!;
  return args;
}
