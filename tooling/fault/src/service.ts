/**
 * The service the server hosts run, kept behind this one module so that another (apps/echo's
 * starter service) can replace it: `echo` answers which host served it, `sleep` works for
 * `ms` unless its call's signal aborts first — and counts, server-side, every abort by reason,
 * so a test can see that a client's deadline or cancel reached the handler.
 */
import { RpcStatus, type Service } from '@netpoll/rpc';

export interface ServiceCounters {
  echo: number;
  sleepStarted: number;
  sleepCompleted: number;
  /** Aborted sleeps by the signal's reason code (DEADLINE_EXCEEDED, CANCELLED, CONNECTION_CLOSED). */
  sleepAborted: Record<string, number>;
}

export interface EchoReply {
  readonly host: string;
  readonly n: number;
}

export function createFaultService(host: string): { service: Service; counters: ServiceCounters } {
  const counters: ServiceCounters = {
    echo: 0,
    sleepStarted: 0,
    sleepCompleted: 0,
    sleepAborted: {},
  };
  const service: Service = {
    echo: (request: { n: number }): EchoReply => {
      counters.echo++;
      return { host, n: request.n };
    },
    sleep: (request: { ms: number }, context) => {
      counters.sleepStarted++;
      const signal = context.signal;
      return new Promise((resolve, reject) => {
        const onAbort = (): void => {
          clearTimeout(timer);
          const code = (signal.reason as { code?: string })?.code ?? 'UNKNOWN';
          counters.sleepAborted[code] = (counters.sleepAborted[code] ?? 0) + 1;
          reject(new RpcStatus('ABORTED', `sleep aborted: ${code}`));
        };
        const timer = setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          counters.sleepCompleted++;
          resolve({ host, slept: request.ms });
        }, request.ms);
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
  return { service, counters };
}
