/**
 * The body of one reactor worker thread, started by {@link ReactorGroup} with `new Worker()`:
 * loads the handler module, runs one single-thread {@link EventLoop} on this thread's reactor (its
 * own addon instance, epoll/kqueue fd and slabs), serves the listeners the main thread attaches,
 * and shuts down gracefully when told. It does nothing when imported anywhere else.
 */
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, threadId, workerData } from 'node:worker_threads';
import { describe, handlerLoadError, reusePortRequiredError } from './errors';
import { EventLoop } from './event-loop';
import {
  kCallbackOptions,
  type OnConnect,
  type OnDisconnect,
  type OnError,
  type OnPrepare,
  type OnRequest,
} from './event-loop-options';
import { getReactor, getReactorStats } from './get-reactor';
import { createListener, Listener } from './listener';
import {
  type FromReactorWorker,
  fromWire,
  kReactorWorkerMarker,
  type ListenerSpec,
  type ReactorWorkerSetup,
  type ToReactorWorker,
  toWire,
} from './reactor-messages';
import { systemError } from './system-error';

interface Handler {
  onRequest: OnRequest;
  onPrepare: OnPrepare | null;
  onConnect: OnConnect | null;
  onDisconnect: OnDisconnect | null;
  onError: OnError | null;
}

/**
 * Imports the handler module (CommonJS or ESM), picks its callbacks — named exports, else the
 * properties of its default export — and awaits its optional `init(handlerData)`. Throws
 * `ERR_NETPOLL_HANDLER_LOAD` naming the path.
 */
async function loadHandler(path: string, handlerData: unknown): Promise<Handler> {
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw handlerLoadError(path, `could not be loaded: ${thrownReason(error)}`, error);
  }
  const fallback = namespace.default;
  const source =
    typeof namespace.onRequest !== 'function' && typeof fallback === 'object' && fallback !== null
      ? (fallback as Record<string, unknown>)
      : namespace;
  if (typeof source.onRequest !== 'function') {
    throw handlerLoadError(path, 'does not export an onRequest function');
  }
  const handler: Handler = {
    onRequest: source.onRequest as OnRequest,
    onPrepare: null,
    onConnect: null,
    onDisconnect: null,
    onError: null,
  };
  for (const name of kCallbackOptions) {
    const value = source[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'function') {
      throw handlerLoadError(path, `exports ${name}, which is not a function`);
    }
    (handler as unknown as Record<string, unknown>)[name] = value;
  }
  const init = source.init;
  if (init !== undefined && init !== null) {
    if (typeof init !== 'function')
      throw handlerLoadError(path, 'exports init, which is not a function');
    try {
      await init(handlerData);
    } catch (error) {
      throw handlerLoadError(path, `init() failed: ${thrownReason(error)}`, error);
    }
  }
  return handler;
}

/** What a thrown value says: an Error's message, else the value (`throw undefined` happens). */
function thrownReason(error: unknown): string {
  return error instanceof Error ? error.message : `it threw ${describe(error)}`;
}

class ReactorWorker {
  readonly #setup: ReactorWorkerSetup;
  readonly #loop: EventLoop;
  readonly #listeners = new Map<number, Listener>();
  readonly #cutShort = new AbortController();

  constructor(setup: ReactorWorkerSetup, handler: Handler) {
    this.#setup = setup;
    this.#loop = new EventLoop(handler.onRequest, {
      ...setup.options,
      onPrepare: handler.onPrepare,
      onConnect: handler.onConnect,
      onDisconnect: handler.onDisconnect,
      onError: handler.onError,
    });
    this.#loop.shareConnectionCount(new Int32Array(setup.counts), setup.index);
  }

  handle(message: ToReactorWorker): void {
    switch (message.type) {
      case 'attach': {
        const id = message.listener.id;
        try {
          this.#attach(message.listener);
          post({ type: 'attached', id });
        } catch (error) {
          post({ type: 'attach-failed', id, error: toWire(error) });
        }
        return;
      }
      case 'detach':
        this.#listeners.get(message.id)?.close();
        this.#listeners.delete(message.id);
        return;
      case 'stop-accepting':
        // The first step of a shutdown: every listener of this reactor closes (its backlog is
        // swept as `Listener.close` does) before any reactor of the group drains.
        for (const listener of this.#listeners.values()) listener.close(message.timeout);
        this.#listeners.clear();
        post({ type: 'stopped-accepting' });
        return;
      case 'shutdown': {
        const drained = (complete: boolean): void => {
          post({ type: 'drained', complete });
          parentPort?.close();
        };
        // An abort (the main thread's signal) still ends with everything closed.
        const signal = this.#cutShort.signal;
        void this.#loop.shutdown({ timeout: message.timeout, signal }).then(
          (result) => drained(result.complete),
          () => drained(false),
        );
        return;
      }
      case 'cut-short':
        this.#cutShort.abort();
        return;
      case 'stats':
        post({ type: 'stats', id: message.id, stats: getReactorStats() });
        return;
      case 'report':
        // Errors of the group (a crashed sibling reactor) reach the handler module's onError.
        this.#loop.reportError(fromWire(message.error), null);
        return;
    }
  }

  #attach(spec: ListenerSpec): void {
    let listener: Listener;
    if (spec.reusePort && this.#setup.index > 0) {
      try {
        listener = createListener('tcp', spec.address, {
          reusePort: true,
          backlog: spec.backlog,
        });
      } catch (error) {
        // The only socket bound to this address is the main thread's: it lacks SO_REUSEPORT.
        if ((error as { code?: string }).code === 'EADDRINUSE') {
          throw reusePortRequiredError(spec.address, this.#setup.reactors);
        }
        throw error;
      }
    } else {
      const reactor = getReactor();
      reactor.countCall();
      const fd = reactor.binding.adoptListener(spec.fd);
      if (fd < 0) throw systemError(fd, 'dup', spec.address);
      listener = new Listener(reactor, spec.network, fd, spec.address, spec.backlog, false);
    }
    this.#listeners.set(spec.id, listener);
    // The main thread owns the outcome of serve(); here a close is always one it asked for.
    this.#loop.serve(listener).catch(() => {});
  }
}

function post(message: FromReactorWorker): void {
  parentPort?.postMessage(message);
}

async function run(setup: ReactorWorkerSetup): Promise<void> {
  let handler: Handler;
  try {
    handler = await loadHandler(setup.handler, setup.handlerData);
  } catch (error) {
    post({ type: 'failed', error: toWire(error) });
    parentPort?.close();
    return;
  }
  const worker = new ReactorWorker(setup, handler);
  parentPort?.on('message', (message: ToReactorWorker) => worker.handle(message));
  post({ type: 'ready', threadId });
}

const data = workerData as { marker?: unknown; setup?: ReactorWorkerSetup } | null;
if (!isMainThread && data?.marker === kReactorWorkerMarker && data.setup !== undefined) {
  void run(data.setup);
}
