/**
 * The entry script of every `WorkerPool` thread (compiled to `dist/worker.js`; not public).
 *
 * The thread loads the task module, then runs a cycle: take every task published in the
 * request ring, call its function, and write each result to the response ring as soon as it
 * is ready. When the ring is empty it parks with `Atomics.waitAsync`, not `Atomics.wait`, so
 * that its event loop keeps running: async task functions, their timers and I/O, and the
 * rare `postMessage` traffic (large tasks, cancellations) all progress while it waits.
 * Wake-ups use a sleeping flag so that the event loop only pays for `Atomics.notify` when
 * this thread is really parked, and the thread only notifies the event loop when it is.
 */
import { fileURLToPath } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { Decoder, Encoder } from './codec';
import { abortedError } from './errors';
import {
  type CancelMessage,
  copyRecord,
  kHasName,
  kHasSignal,
  kRequestHeader,
  Status,
  type TaskMessage,
  type WorkerInit,
} from './protocol';
import {
  align8,
  Ctrl,
  kCtrlBytes,
  PoolCtrl,
  RingConsumer,
  RingProducer,
  requestBase,
  responseBase,
} from './ring';

type TaskFunction = (value: unknown, signal?: AbortSignal) => unknown;

const init = workerData as WorkerInit;
const port = parentPort!;
const ctrl = new Int32Array(init.channel, 0, kCtrlBytes / 4);
const poolCtrl = new Int32Array(init.poolCtrl);
const bytes = Buffer.from(init.channel);
const view = new DataView(init.channel);
const requests = new RingConsumer(
  ctrl,
  view,
  Ctrl.reqHead,
  Ctrl.reqTail,
  requestBase(),
  init.ringSize,
);
const responses = new RingProducer(
  ctrl,
  view,
  Ctrl.respHead,
  Ctrl.respTail,
  responseBase(init.ringSize),
  init.ringSize,
);
const maxRecord = init.ringSize / 4;
/** How long a pass of tiny tasks may publish results without waking a parked event loop. */
const kNotifyAfterMs = 0.05;
const decoder = new Decoder(bytes);
const encoder = new Encoder();

let taskModule: unknown;
const functions: (TaskFunction | null | undefined)[] = [];
const names: string[] = [];
const running = new Map<number, AbortController>(); // Only tasks submitted with a signal.
const cancelled = new Set<number>(); // Ring tasks cancelled before this thread read them.
const pending: Buffer[] = []; // Encoded responses waiting for room in the response ring.
let lastRingId = 0;
// `then()` on a settled promise queues a plain microtask; `queueMicrotask()` costs more.
const kResolved = Promise.resolve();
let flushScheduled = false;
let unnotified = false; // Results published since the event loop was last offered a wake-up.
let blocked = false; // Mirrors Ctrl.respBlocked, so that it is stored only when it changes.

// ---- results ------------------------------------------------------------------------------

function respond(id: number, status: number, value: unknown): void {
  encoder.reset(0);
  encoder.u32(0);
  encoder.u32(id);
  encoder.u8(status);
  try {
    if (status === Status.thrown) encoder.error(value);
    else encoder.value(value);
  } catch (error) {
    encoder.reset(8);
    encoder.u8(Status.dataClone);
    encoder.value(`the result of the task: ${(error as Error).message}`);
  }
  const length = align8(encoder.pos);
  if (length > maxRecord) {
    postResult(id, status, value);
    return;
  }
  encoder.ensure(length - encoder.pos);
  encoder.u32At(0, length);
  if (pending.length === 0) {
    const at = responses.reserve(length);
    if (at >= 0) {
      copyRecord(encoder.buf, bytes, at, length);
      responses.commit(length);
      return;
    }
  }
  pending.push(Buffer.from(encoder.buf.subarray(0, length)));
  if (!blocked) {
    blocked = true;
    Atomics.store(ctrl, Ctrl.respBlocked, 1);
  }
}

function postResult(id: number, status: number, value: unknown): void {
  try {
    port.postMessage({ type: 'result', id, status, value });
  } catch (error) {
    const message = `the result of the task: ${(error as Error).message}`;
    port.postMessage({ type: 'result', id, status: Status.dataClone, value: message });
  }
}

/** Moves waiting responses into the ring, publishes, and wakes the event loop if it is parked. */
function flush(): void {
  flushScheduled = false;
  while (pending.length > 0) {
    const record = pending[0]!;
    const at = responses.reserve(record.length);
    if (at < 0) break;
    copyRecord(record, bytes, at, record.length);
    responses.commit(record.length);
    pending.shift();
  }
  if (pending.length === 0 && blocked) {
    blocked = false;
    Atomics.store(ctrl, Ctrl.respBlocked, 0);
  }
  if (responses.publish()) unnotified = true;
  if (!unnotified) return;
  // An event loop that is not parked now will re-check the rings before it parks.
  unnotified = false;
  if (
    Atomics.load(poolCtrl, PoolCtrl.mainSleeping) === 1 &&
    Atomics.compareExchange(poolCtrl, PoolCtrl.mainSleeping, 1, 0) === 1
  ) {
    Atomics.add(poolCtrl, PoolCtrl.bell, 1);
    Atomics.notify(poolCtrl, PoolCtrl.bell);
  }
}

function scheduleFlush(): void {
  if (flushScheduled) return;
  flushScheduled = true;
  kResolved.then(flush);
}

// ---- running tasks ------------------------------------------------------------------------

function resolveFunction(index: number, name: string): TaskFunction | null {
  const mod = taskModule as Record<string, unknown> | TaskFunction | null | undefined;
  let fn: unknown;
  if (typeof mod === 'function')
    fn = name === 'default' ? mod : (mod as unknown as Record<string, unknown>)[name];
  else if (mod !== null && typeof mod === 'object') {
    fn = mod[name];
    const inner = mod.default as Record<string, unknown> | undefined;
    if (fn === undefined && inner !== null && typeof inner === 'object') fn = inner[name];
  }
  const resolved = typeof fn === 'function' ? (fn as TaskFunction) : null;
  functions[index] = resolved;
  names[index] = name;
  return resolved;
}

function run(
  id: number,
  fn: TaskFunction | null,
  name: string,
  value: unknown,
  hasSignal: boolean,
): void {
  if (fn === null) {
    respond(id, Status.noExport, name);
    return;
  }
  let signal: AbortSignal | undefined;
  if (hasSignal) {
    const controller = new AbortController();
    running.set(id, controller);
    signal = controller.signal;
  }
  let result: unknown;
  try {
    result = fn(value, signal);
  } catch (error) {
    if (hasSignal) running.delete(id);
    respond(id, Status.thrown, error);
    return;
  }
  if (
    result !== null &&
    typeof result === 'object' &&
    typeof (result as PromiseLike<unknown>).then === 'function'
  ) {
    (result as PromiseLike<unknown>).then(
      (resolved) => settleAsync(id, hasSignal, Status.ok, resolved),
      (error: unknown) => settleAsync(id, hasSignal, Status.thrown, error),
    );
    return;
  }
  if (hasSignal) running.delete(id);
  respond(id, Status.ok, result);
}

function settleAsync(id: number, hasSignal: boolean, status: number, value: unknown): void {
  if (hasSignal) running.delete(id);
  respond(id, status, value);
  scheduleFlush();
}

/** Runs every published request (stopping early when responses have no room left). */
function drain(): void {
  let passStart = performance.now();
  for (let count = 0; count < 4096 && pending.length === 0; count++) {
    const at = requests.next();
    if (at < 0) break;
    const length = view.getUint32(at, true);
    const id = view.getUint32(at + 4, true);
    const index = view.getUint16(at + 8, true);
    const flags = bytes[at + 10]!;
    decoder.pos = at + kRequestHeader;
    const name = (flags & kHasName) !== 0 ? decoder.rawString() : names[index]!;
    let value: unknown;
    let decodeError: unknown;
    try {
      value = decoder.value();
    } catch (error) {
      decodeError = error;
    }
    // Publishing the tail before the call is what lets the pool re-queue, never re-run, the
    // tasks this thread had not taken when it died.
    requests.consume(length);
    lastRingId = id;
    if (cancelled.size > 0 && cancelled.delete(id)) continue;
    if (decodeError !== undefined) {
      respond(id, Status.thrown, decodeError);
    } else {
      const fn = (flags & kHasName) !== 0 ? resolveFunction(index, name) : functions[index]!;
      run(id, fn ?? null, name, value, (flags & kHasSignal) !== 0);
    }
    // Make each result visible at once (an event loop that is awake takes it in its current
    // pass), but wake a parked event loop only once per pass: a wake-up costs more than many
    // tiny tasks. A pass that runs long wakes it anyway, so slow tasks are not held back.
    if (pending.length > 0) flush();
    else {
      if (responses.publish()) unnotified = true;
      if (performance.now() - passStart > kNotifyAfterMs) {
        passStart = performance.now();
        flush();
      }
    }
  }
  flush();
}

// ---- the cycle ----------------------------------------------------------------------------

function cycle(): void {
  Atomics.store(ctrl, Ctrl.workerSleeping, 0);
  if (pending.length > 0) flush();
  drain();
  park();
}

/** Retries the waiting responses; true when at least one went into the ring. */
function flushMadeRoom(): boolean {
  const waiting = pending.length;
  flush();
  return pending.length < waiting;
}

function park(): void {
  const bell = Atomics.load(ctrl, Ctrl.reqBell);
  Atomics.store(ctrl, Ctrl.workerSleeping, 1);
  // Re-check after announcing sleep: whatever the event loop published before it could see
  // the flag is visible now (Atomics are sequentially consistent).
  if (pending.length > 0 ? flushMadeRoom() : requests.hasData()) {
    Atomics.store(ctrl, Ctrl.workerSleeping, 0);
    setImmediate(cycle);
    return;
  }
  const result = Atomics.waitAsync(ctrl, Ctrl.reqBell, bell);
  if (result.async) void result.value.then(cycle);
  else setImmediate(cycle);
}

// ---- messages and start-up ----------------------------------------------------------------

function onMessage(message: TaskMessage | CancelMessage): void {
  if (message.type === 'task') {
    const index = message.index;
    const known = names[index] === message.name ? functions[index] : undefined;
    const fn = known !== undefined ? known : resolveFunction(index, message.name);
    run(message.id, fn, message.name, message.value, message.hasSignal);
    flush();
    return;
  }
  const controller = running.get(message.id);
  if (controller !== undefined) {
    running.delete(message.id);
    controller.abort(abortedError(undefined));
  } else if (message.ring && ((message.id - lastRingId) | 0) > 0) {
    cancelled.add(message.id);
  }
}

async function loadTaskModule(filename: string): Promise<unknown> {
  try {
    return require(fileURLToPath(filename));
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_REQUIRE_ESM') throw error;
    return import(filename);
  }
}

port.on('message', onMessage);
loadTaskModule(init.filename).then(
  (mod) => {
    taskModule = mod;
    port.postMessage({ type: 'ready' });
    cycle();
  },
  (error: unknown) => {
    // Structured clone keeps an error's name, message and stack only; send its own
    // properties (such as `code`) alongside when they can be cloned.
    const props = error !== null && typeof error === 'object' ? { ...error } : undefined;
    try {
      port.postMessage({ type: 'load-error', error, props });
    } catch {
      port.postMessage({ type: 'load-error', error: String(error), props: undefined });
    }
  },
);
