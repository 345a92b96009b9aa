/**
 * The entry script of every `WorkerPool` thread (compiled to `dist/worker.js`; not public).
 *
 * The thread loads the task module, then runs a cycle: take every task published in the
 * request ring, call its function, and write each result to the response ring as soon as it
 * is ready (`worker-responder.ts`). When the ring is empty it parks: in `Atomics.wait` when
 * no async task is pending (the cheapest wake-up; it sleeps at most 50 ms at a time so that
 * the module's own timers still fire), else in `Atomics.waitAsync`, so that its event loop
 * keeps running the async tasks, their timers and I/O. Wake-ups use a sleeping flag so that
 * the event loop only pays for `Atomics.notify` when this thread is really parked, and the
 * thread only notifies the event loop when it is.
 */
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { Decoder } from './decoder';
import { AbortError } from './errors';
import {
  type CancelMessage,
  kHasName,
  kHasSignal,
  kRequestHeader,
  Status,
  type TaskMessage,
  takenMark,
  type WorkerInit,
} from './protocol';
import {
  Ctrl,
  kCostSlots,
  kCtrlBytes,
  kInitialServiceNs,
  PoolCtrl,
  RingConsumer,
  requestBase,
} from './ring';
import { Responder } from './worker-responder';

type TaskFunction = (value: unknown, signal?: AbortSignal) => unknown;

const init = workerData as WorkerInit;
const port = parentPort!;
const ctrl = new Int32Array(init.channel, 0, kCtrlBytes / 4);
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
const responder = new Responder(init.channel, new Int32Array(init.poolCtrl), init.ringSize, port);
const pending = responder.pending;
/**
 * Longest synchronous sleep: timers the task module set outside a task fire at most this
 * late while the thread is idle.
 */
const kSyncWaitMs = 50;
/** How long passes may run back to back before the event loop gets a turn. */
const kYieldAfterMs = 1;
/** How long a pass of tiny tasks may publish results without waking a parked event loop. */
const kNotifyAfterMs = 0.05;
let justPublished = false;
const decoder = new Decoder(bytes);

let taskModule: unknown;
const functions: (TaskFunction | null | undefined)[] = [];
const names: string[] = [];
const running = new Map<number, AbortController>(); // Only tasks submitted with a signal.
const live = new Uint32Array(init.live); // See WorkerInit.live.
let asyncPending = 0; // Promises returned by task functions and not settled yet.

// ---- service time -------------------------------------------------------------------------

let serviceNs = kInitialServiceNs;
// The same average per task function (PoolCtrl.costs), kept here at full precision.
const costNs = new Float64Array(kCostSlots);
const costs = new Int32Array(init.poolCtrl, PoolCtrl.costs * 4, kCostSlots);

/**
 * Folds one task's duration (ms) into an average: a sample counts for at most 8× it, so a
 * thread that was preempted mid-task (common on a busy machine) does not make cheap tasks
 * look expensive; a real change of cost still shows within a few tasks. Decreases are taken
 * faster than increases.
 */
function fold(average: number, ns: number): number {
  const sample = Math.min(ns, average * 8);
  return average + (sample - average) / (sample > average ? 8 : 4);
}

/** Records one task's duration: the thread's average (Ctrl.serviceNs) and its function's. */
function recordService(ms: number, index: number): void {
  const ns = ms * 1e6;
  serviceNs = fold(serviceNs, ns);
  Atomics.store(ctrl, Ctrl.serviceNs, Math.min(serviceNs, 2147483647));
  if (index >= kCostSlots) return;
  // A thread's first call of a function starts from the pool's figure, so that one slow first
  // call (a new thread's cold code) cannot overwrite what the other threads measured.
  const previous = costNs[index] || costs[index]!;
  const cost = previous === 0 ? ns : fold(previous, ns);
  costNs[index] = cost;
  // The event loop reads the word on every hand-over and every thread may write it: it is
  // rewritten only when the cost is off by more than a quarter, so neither a cost that jitters
  // a little nor two threads whose averages differ a little keep its cache line moving
  // between cores.
  const shown = costs[index]!;
  if (shown === 0 || Math.abs(cost - shown) * 4 > shown) {
    Atomics.store(costs, index, Math.max(1, Math.min(Math.round(cost), 2147483647)));
  }
}

// ---- running tasks ------------------------------------------------------------------------

/**
 * Takes task `id` in `slot` unless the pool revoked it first (WorkerHandle.revoke makes the
 * same exchange): exactly one side wins, so a task the pool calls unstarted never runs.
 */
function claim(slot: number, id: number): boolean {
  return Atomics.compareExchange(live, slot, id, takenMark(id)) === id;
}

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
  slot: number,
  fn: TaskFunction | null,
  name: string,
  value: unknown,
  hasSignal: boolean,
): void {
  if (fn === null) {
    responder.respond(id, slot, Status.noExport, name);
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
    responder.respond(id, slot, Status.thrown, error);
    return;
  }
  if (
    result !== null &&
    typeof result === 'object' &&
    typeof (result as PromiseLike<unknown>).then === 'function'
  ) {
    asyncPending++;
    (result as PromiseLike<unknown>).then(
      (resolved) => settleAsync(id, slot, hasSignal, Status.ok, resolved),
      (error: unknown) => settleAsync(id, slot, hasSignal, Status.thrown, error),
    );
    return;
  }
  if (hasSignal) running.delete(id);
  responder.respond(id, slot, Status.ok, result);
}

function settleAsync(
  id: number,
  slot: number,
  hasSignal: boolean,
  status: number,
  value: unknown,
): void {
  asyncPending--;
  if (hasSignal) running.delete(id);
  responder.respond(id, slot, status, value);
  responder.scheduleFlush();
}

/** Runs every published request (stopping early when responses have no room left). */
function drain(): void {
  let passStart = performance.now();
  let taskStart = passStart;
  let count = 0;
  for (; count < 4096 && pending.length === 0; count++) {
    const at = requests.next();
    if (at < 0) break;
    const length = view.getUint32(at, true);
    const id = view.getUint32(at + 4, true);
    const index = view.getUint16(at + 8, true);
    const flags = bytes[at + 10]!;
    const slot = view.getUint32(at + 12, true);
    decoder.pos = at + kRequestHeader;
    // A name comes with the first task of a function only: resolve it even for a task that is
    // skipped, or the later ones would find no function.
    const hasName = (flags & kHasName) !== 0;
    const name = hasName ? decoder.rawString() : names[index]!;
    const fn = hasName ? resolveFunction(index, name) : functions[index]!;
    // The claim is what lets the pool re-queue, never re-run, the tasks this thread had not
    // taken when it died (WorkerHandle.started).
    if (!claim(slot, id)) {
      requests.consume(length); // Aborted or timed out while it waited: never run.
      continue;
    }
    let value: unknown;
    let decodeError: unknown;
    try {
      value = decoder.value();
    } catch (error) {
      decodeError = error;
    }
    requests.consume(length);
    if (decodeError !== undefined) {
      responder.respond(id, slot, Status.thrown, decodeError);
    } else {
      run(id, slot, fn ?? null, name, value, (flags & kHasSignal) !== 0);
    }
    const now = performance.now();
    recordService(now - taskStart, index);
    taskStart = now;
    // Make each result visible at once (an event loop that is awake takes it in its current
    // pass), but wake a parked event loop only once per pass: a wake-up costs more than many
    // tiny tasks. A pass that runs long wakes it anyway, so slow tasks are not held back.
    if (pending.length > 0) responder.flush();
    else {
      responder.publishQuietly();
      if (taskStart - passStart > kNotifyAfterMs) {
        passStart = taskStart;
        responder.flush();
      }
    }
  }
  responder.flush();
  if (count > 0) justPublished = true;
}

// ---- the cycle ----------------------------------------------------------------------------

/**
 * Runs passes until the thread has to wait for its event loop: a pass drains the ring, then
 * parks. After a synchronous sleep ends with work to do, the next pass starts at once (port
 * messages are taken synchronously, see {@link takeMessages}); once passes have run for
 * {@link kYieldAfterMs}, and after a sleep that timed out, the event loop gets a turn (the
 * module's own timers, I/O).
 */
function cycle(): void {
  const start = performance.now();
  do {
    Atomics.store(ctrl, Ctrl.workerSleeping, 0);
    if (pending.length > 0) responder.flush();
    drain();
    if (!park()) return;
  } while (performance.now() - start < kYieldAfterMs);
  setImmediate(cycle);
}

/**
 * Handles messages already queued on the port. A message posted before the pool could see
 * the sleeping flag rang no bell, so it must be taken here or it would wait out a sleep.
 */
function takeMessages(): boolean {
  let taken = false;
  for (
    let entry = receiveMessageOnPort(port);
    entry !== undefined;
    entry = receiveMessageOnPort(port)
  ) {
    onMessage(entry.message as TaskMessage | CancelMessage);
    taken = true;
  }
  return taken;
}

/**
 * Spins briefly before sleeping while the event loop is awake after this thread published
 * results: it is then most likely turning them into new tasks, and catching those without a
 * sleep saves a wake-up on both sides. Returns true when work arrived.
 */
function linger(): boolean {
  if (!justPublished || init.lingerMs === 0) return false;
  justPublished = false;
  const until = performance.now() + init.lingerMs;
  do {
    if (requests.hasData()) return true;
    if (responder.mainParked()) return false;
  } while (performance.now() < until);
  return false;
}

/**
 * Parks until there is work. Returns true when the caller should run the next pass now;
 * false when the next pass has been scheduled on the event loop.
 */
function park(): boolean {
  const bell = Atomics.load(ctrl, Ctrl.reqBell);
  Atomics.store(ctrl, Ctrl.workerSleeping, 1);
  // Re-check after announcing sleep: whatever the event loop published before it could see
  // the flag is visible now (Atomics are sequentially consistent).
  if ((pending.length > 0 ? responder.flushMadeRoom() : requests.hasData()) || takeMessages()) {
    return true;
  }
  if (linger()) return true;
  if (asyncPending === 0) {
    // Nothing of ours needs the event loop: sleep in the synchronous wait, whose wake-up
    // costs a fraction of an async one.
    if (Atomics.wait(ctrl, Ctrl.reqBell, bell, kSyncWaitMs) !== 'timed-out') return true;
    Atomics.store(ctrl, Ctrl.workerSleeping, 0);
    setImmediate(cycle);
    return false;
  }
  const result = Atomics.waitAsync(ctrl, Ctrl.reqBell, bell);
  if (!result.async) return true;
  void result.value.then(cycle);
  return false;
}

// ---- messages and start-up ----------------------------------------------------------------

function onMessage(message: TaskMessage | CancelMessage): void {
  if (message.type === 'task') {
    // Aborted or timed out while it waited: never run.
    if (!claim(message.slot, message.id)) return;
    const index = message.index;
    const known = names[index] === message.name ? functions[index] : undefined;
    const fn = known !== undefined ? known : resolveFunction(index, message.name);
    const start = performance.now();
    let value = message.value;
    if (message.encoded !== undefined) {
      try {
        value = new Decoder(Buffer.from(message.encoded)).value();
      } catch (error) {
        responder.respond(message.id, message.slot, Status.thrown, error);
        responder.flush();
        return;
      }
    }
    run(message.id, message.slot, fn, message.name, value, message.hasSignal);
    recordService(performance.now() - start, message.index);
    responder.flush();
    return;
  }
  const controller = running.get(message.id);
  if (controller !== undefined) {
    running.delete(message.id);
    controller.abort(new AbortError());
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
