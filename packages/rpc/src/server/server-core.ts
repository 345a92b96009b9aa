/**
 * What one reactor thread of a server shares between its connections: the method table, the
 * interceptors, the options, the call counters and the deadline heap; and the core callbacks that
 * attach a {@link ServerConnection} to each accepted connection. A single-thread server has one;
 * a multi-core server has one per reactor, built by the reactor handler module.
 */
import type { Connection } from '@netpoll/core';
import { runChain } from '../chain';
import { DeadlineHeap } from '../deadline-heap';
import type { ResolvedServerOptions } from '../options';
import { CallCounters } from '../stats';
import type { CallContext } from './call-context';
import { ServerConnection } from './server-connection';
import { MethodTable } from './service';

/**
 * Wraps every call: receives its context (with `context.request`) and `next`, which runs the
 * rest of the chain and then the handler, and resolves with the response. An interceptor may
 * answer on its own (return without calling `next`), throw an `RpcStatus` to refuse, or look at
 * and replace the response.
 */
export type Interceptor = (context: CallContext, next: () => Promise<unknown>) => unknown;

export class ServerCore {
  readonly options: ResolvedServerOptions;
  readonly methods: MethodTable;
  readonly interceptors: Interceptor[] = [];
  readonly counters = new CallCounters();
  readonly deadlines = new DeadlineHeap();

  constructor(service: unknown, options: ResolvedServerOptions) {
    this.options = options;
    this.methods = new MethodTable(service, options.serializer);
  }

  /** core `onConnect`: the connection's RPC state becomes its context. */
  readonly onConnect = (connection: Connection): ServerConnection => {
    const state = new ServerConnection(connection, this);
    connection.on('shutdown', () => state.onShutdown());
    // A reset peer (core reports it as 'end' with a closeError, and keeps the connection open
    // while calls hold it) can take no reply: close now, so running calls see CONNECTION_CLOSED.
    connection.on('end', () => {
      if (connection.closeError !== null) connection.close();
    });
    connection.on('close', () => {
      state.onClose();
    });
    connection.on('drain', () => state.onDrain());
    return state;
  };

  /** core `onRequest`. */
  readonly onRequest = (_connection: Connection, context: unknown): void => {
    (context as ServerConnection).onRequest();
  };

  /**
   * core `onError`, and the connections' protocol errors (their connection is closed): errors no
   * call receives (oversized or malformed frames, accept failures) are counted by code.
   */
  readonly onError = (error: Error): void => {
    const code = (error as { code?: string }).code ?? 'ERROR';
    this.counters.countError(code);
  };

  /** Runs the interceptor chain, then the handler. */
  invoke(context: CallContext): Promise<unknown> {
    return runChain(this.interceptors, context, () =>
      context.definition.handler(context.request, context),
    );
  }
}
