/**
 * The Echo service: one handler per method of {@link EchoApi}. Each shows a pattern —
 * `echo` a plain unary call, `hash` CPU work on a WorkerPool (`workerMethod`), `sleep` work that
 * stops when the call's signal aborts, `health` a liveness answer. Handlers check their request
 * first (`kRequestParsers`), so a bad request costs no work and is answered `INVALID_ARGUMENT`.
 */
import { setTimeout as delay } from 'node:timers/promises';
import {
  type CallContext,
  type Handler,
  RpcStatus,
  type TaskPool,
  workerMethod,
} from '@netpoll/rpc';
import { type EchoApi, type EchoMethod, kRequestParsers, type ResponseOf } from './echo-api';

/** What the service needs from its host. */
export interface EchoServiceOptions {
  /** Runs the `hash` task (a `@netpoll/gopool` WorkerPool over `hash-task.js`). */
  readonly pool: TaskPool;
  /** `performance.now()` when the service started, for `health`'s uptime. Default: now. */
  readonly startedAt?: number;
}

/** The handlers, typed by the API: a handler that answers the wrong shape does not compile. */
export type EchoService = { readonly [M in EchoMethod]: Handler<unknown, ResponseOf<M>> };

/** Why a call's signal aborted (`DEADLINE_EXCEEDED`, `CANCELLED`, `CONNECTION_CLOSED`) as its answer. */
export function abortStatus(signal: AbortSignal): RpcStatus {
  const reason = signal.reason as { code?: unknown; message?: unknown } | undefined;
  const code = typeof reason?.code === 'string' ? reason.code : 'CANCELLED';
  const message = typeof reason?.message === 'string' ? reason.message : 'the call was aborted';
  return new RpcStatus(code, message);
}

export function createEchoService(options: EchoServiceOptions): EchoService {
  const startedAt = options.startedAt ?? performance.now();
  const runHash = workerMethod<EchoApi['hash']['request'], ResponseOf<'hash'>>(
    options.pool,
    'hash',
  );
  return {
    echo(request) {
      return { message: kRequestParsers.echo(request).message };
    },

    hash(request, context) {
      // Checked here, on the reactor: a bad request never reaches the pool.
      return runHash(kRequestParsers.hash(request), context);
    },

    async sleep(request, context: CallContext) {
      const { ms } = kRequestParsers.sleep(request);
      const started = performance.now();
      // The signal aborts at the deadline, on the client's CANCEL and when the connection closes:
      // stop waiting then, and say why (a CANCELLED or closed call's answer is not sent).
      const signal = context.signal;
      try {
        await delay(ms, undefined, { signal });
      } catch (error) {
        if (signal.aborted) throw abortStatus(signal);
        throw error;
      }
      return { slept: Math.round(performance.now() - started) };
    },

    health(request) {
      kRequestParsers.health(request);
      return {
        status: 'SERVING',
        uptime: Math.round((performance.now() - startedAt) / 1000),
        pid: process.pid,
      };
    },
  };
}
