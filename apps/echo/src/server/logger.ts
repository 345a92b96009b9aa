/**
 * Structured logs: one JSON object per line on stdout (pino), the same shape from the main thread
 * and from every reactor thread (which add `reactor`, their thread id). pino writes synchronously
 * to stdout by default, so the last lines before an exit are never lost.
 */
import { threadId } from 'node:worker_threads';
import type { Interceptor } from '@netpoll/rpc';
import { serverCallChannel } from '@netpoll/rpc';
import { type Logger, pino } from 'pino';
import { answeredCode } from './reactor-metrics';

export type { Logger };

/** Levels of `--log-level`, most to least severe; `silent` logs nothing. */
export const kLogLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof kLogLevels)[number];

/** A logger for this thread: `service` names the app in every line; reactor threads add `reactor`. */
export function createLogger(level: LogLevel, service: string): Logger {
  const base: Record<string, unknown> = { service, pid: process.pid };
  if (threadId !== 0) base.reactor = threadId;
  return pino({ level, base, timestamp: pino.stdTimeFunctions.isoTime });
}

/**
 * Logs every call at `debug`: method, answered code, ms. Installed only when `debug` is on — an
 * interceptor makes every call asynchronous, which costs the reactor a few µs per call.
 */
export function loggingInterceptor(logger: Logger): Interceptor {
  return async (context, next) => {
    const started = performance.now();
    try {
      const response = await next();
      logger.debug({ method: context.method, code: 'OK', ms: performance.now() - started }, 'call');
      return response;
    } catch (error) {
      const ms = performance.now() - started;
      logger.debug({ method: context.method, code: answeredCode(error), ms }, 'call');
      throw error;
    }
  };
}

/**
 * Logs, at `error`, the real cause of every call answered `INTERNAL` — the client only gets a
 * generic message, so this line is where the bug shows. Fed by rpc's server call channel, so it
 * costs nothing while calls succeed. Returns a function that unsubscribes.
 */
export function logCallFailures(logger: Logger): () => void {
  const handlers = {
    error(message: unknown) {
      const { method, error } = message as { method: string; error: unknown };
      if (answeredCode(error) === 'INTERNAL') {
        logger.error({ method, code: 'INTERNAL', err: error }, 'call failed');
      }
    },
  };
  serverCallChannel.subscribe(handlers as never);
  return () => serverCallChannel.unsubscribe(handlers as never);
}
