/**
 * The per-thread reactor: owns the shared memory, runs the dispatcher — the one JS function
 * native calls once per batch — and queues writes and closes for native.
 *
 * Shared memory (layout in `./layout`):
 *   control  Int32Array  header | batch records (native→JS) | submissions (JS→native) | slab refs
 *   fdState  Int32Array  per fd: bytes written by native (mod 2^32), backpressure flag
 *   stats    Float64Array native counters (see `getReactorStats`)
 *
 * Inbound slabs (reference counts, growth up to a memory cap) live in `./inbound-slabs`.
 *
 * Hot-path rules: the dispatcher allocates nothing per record except what a LinkBuffer node
 * needs; writes and closes are queued as 4-int submissions that native executes after the batch
 * or from its prepare/check hooks, so no JS→native call is made per message.
 */
import type { Buffer } from 'node:buffer';
import type { NativeBinding } from './binding';
import { reactorStallChannel } from './diagnostics';
import { InboundSlabs } from './inbound-slabs';
import * as L from './layout';
import { kDefaultConnectionOptions, kDefaultReactorOptions, type ReactorOptions } from './options';
import { OutboundAllocator } from './outbound-allocator';
import type { OutputQueue } from './output-queue';
import { type ReactorStats, snapshotStats } from './reactor-stats';
import { systemError } from './system-error';
import { monotonicNow, TimerWheel } from './timer-wheel';

/** A connection (or pending dial) as the dispatcher sees it. */
export interface ReactorStream {
  onData(slab: Buffer, start: number, end: number, token: number): void;
  onHangup(errno: number): void;
  onDrain(): void;
  onConnectResult(errno: number): void;
  onFrameTooLarge(length: number): void;
  /** The input budget of `endInput` was read: no more input will come. */
  onInputEnd(): void;
  /** Copies buffered input out of the inbound slabs where no view needs it; returns the bytes. */
  evacuateInput(): number;
}

/** A listener as the dispatcher sees it. */
export interface ReactorListener {
  onAccept(fd: number): void;
  onAcceptError(errno: number, paused: boolean): void;
}

/** Reactor-wide sizes. */
export interface ReactorConfig {
  /** Inbound slab size in bytes (grown to fit `maxFrameSize` + header). */
  inboundSlabSize: number;
  /** Cap of inbound slab memory grown on demand, in bytes (`ReactorOptions.maxInboundMemory`). */
  maxInboundMemory: number;
  /** Outbound slab size in bytes. */
  outboundSlabSize: number;
  /**
   * Events per batch. Small on purpose: a batch reads every ready socket, runs the handlers, then
   * writes every reply, so a socket's kernel state and its bytes must survive in cache from its
   * read to its write. With 64 events at 1000 connections that working set fits in L2; measured
   * here (paired runs, 1000 conns, 1 KiB ping-pong) 5 % less CPU per request than 1024, no
   * change at 100 connections. It costs one native→JS call per 64 events.
   */
  maxEvents: number;
  /** Bytes read per batch. */
  maxBatchBytes: number;
  /** Largest single recv(). */
  readSize: number;
}

export const kDefaultReactorConfig: Readonly<ReactorConfig> = Object.freeze({
  ...kDefaultReactorOptions,
  outboundSlabSize: 256 * 1024,
  maxEvents: 64,
  maxBatchBytes: 4 * 1024 * 1024,
  readSize: 64 * 1024,
});

/** Loop turns `#buryLater` waits at most for native to process a close (it takes one or two). */
const kBuryTurns = 8;

interface Graveyard {
  generation: number;
  fd: number;
  release: () => void;
  closed: (cut: boolean) => void;
}

const kNothing = (): void => {};

export class Reactor {
  readonly binding: NativeBinding;
  readonly config: Readonly<ReactorConfig>;
  readonly timers = new TimerWheel();
  readonly outbound: OutboundAllocator;
  /** Inbound slab memory; the owner of every slab region a reader holds. */
  readonly inbound: InboundSlabs;
  readonly #control: Int32Array;
  readonly #fdState: Int32Array;
  readonly #stats: Float64Array;
  readonly #streams: Array<ReactorStream | undefined> = [];
  readonly #listeners: Array<ReactorListener | undefined> = [];
  /** Output queues with bytes handed to native and not yet confirmed written. */
  #inFlight: OutputQueue[] = [];
  #inFlightSpare: OutputQueue[] = [];
  #graveyard: Graveyard[] = [];
  /**
   * By fd, the `closed` callback of each connection whose fd native keeps open while its close
   * lingers. An array, not a `Map`: a Map changing with every closed connection keeps its old
   * tables, and what they held, alive through scavenges once a full GC has promoted one (see
   * `./slot-list`).
   */
  readonly #lingering: Array<((cut: boolean) => void) | undefined> = [];
  #lingerWaiters: Array<() => void> = [];
  #buryScheduled = false;
  #buryTurns = 0;
  /**
   * `performance.now()` when the current (or last) batch reached JS: the time its input was read,
   * taken once per batch so handlers need not read the clock per request (about 45 ns here).
   */
  batchTime = 0;
  #jsToNative = 0;
  #records = 0;
  #outboundSlabs = 0;

  constructor(binding: NativeBinding, config: Readonly<ReactorConfig> = kDefaultReactorConfig) {
    this.binding = binding;
    this.config = config;
    this.#control = new Int32Array(new ArrayBuffer(L.kControlInts * 4));
    const maxFds = binding.maxFds();
    this.#fdState = new Int32Array(new ArrayBuffer(maxFds * L.kFdStateInts * 4));
    this.#stats = new Float64Array(new ArrayBuffer(L.kStatCount * 8));
    if (process.env.NETPOLL_DEBUG === '1') this.#control[L.kHeaderDebug] = 1;
    this.outbound = new OutboundAllocator(
      {
        registerOutbound: (buffer) => this.#registerOutbound(buffer),
        unregisterOutbound: (index) => {
          this.#jsToNative++;
          this.binding.releaseSlab(index);
          this.#outboundSlabs--;
        },
      },
      config.outboundSlabSize,
    );
    this.inbound = new InboundSlabs(
      this.#control,
      (memory) => {
        this.#jsToNative++;
        return this.binding.addSlab(memory, true);
      },
      config.inboundSlabSize,
      config.maxInboundMemory,
    );
    this.#jsToNative++;
    const status = binding.init(
      this.#control.buffer as ArrayBuffer,
      this.#fdState.buffer as ArrayBuffer,
      this.#stats.buffer as ArrayBuffer,
      () => this.#dispatch(),
      {
        maxEvents: config.maxEvents,
        maxBatchBytes: config.maxBatchBytes,
        readSize: config.readSize,
      },
    );
    if (status < 0) throw systemError(status, 'epoll_create');
    this.inbound.add();
    this.inbound.add();
  }

  /** Applies {@link ReactorOptions} (already resolved) to slabs allocated from now on. */
  configure(options: Readonly<Required<ReactorOptions>>): void {
    this.inbound.configure(options.inboundSlabSize, options.maxInboundMemory);
  }

  // ---- registration -------------------------------------------------------------------------

  /** Counts a JS→native call made on behalf of a connection or listener. */
  countCall(): void {
    this.#jsToNative++;
  }

  attachStream(fd: number, stream: ReactorStream): void {
    this.#streams[fd] = stream;
  }

  detachStream(fd: number, stream: ReactorStream): void {
    if (this.#streams[fd] === stream) this.#streams[fd] = undefined;
  }

  attachListener(fd: number, listener: ReactorListener): void {
    this.#listeners[fd] = listener;
  }

  detachListener(fd: number, listener: ReactorListener): void {
    if (this.#listeners[fd] === listener) this.#listeners[fd] = undefined;
  }

  // ---- submissions (no native call) ---------------------------------------------------------

  /** Queues a write of registered memory. */
  submitWrite(fd: number, slab: number, offset: number, length: number): void {
    this.#submit(L.kSubmitWrite | (slab << 8), fd, offset, length);
  }

  /**
   * Queues a close. With `lingerMs` > 0 native keeps the fd open while the peer is still owed
   * bytes (see `ConnectionOptions.lingerTimeout`); with 0 it attempts pending output once and
   * closes (with a reset when output is left the kernel never took); below 0 it closes at once
   * with a reset. A lingering close cut off before its output was delivered resets too.
   * `release` runs once native has processed the close (it no longer references the writer's
   * memory: a lingering close sends from its own copy); `closed` once the fd is closed, with
   * true when a lingering close was cut off that way.
   */
  submitClose(
    fd: number,
    lingerMs: number,
    release: () => void,
    closed: (cut: boolean) => void = kNothing,
  ): void {
    this.#submit(L.kSubmitClose, fd, lingerMs, 0);
    const generation = this.#control[L.kHeaderProcessedGen]!;
    this.#graveyard.push({ generation, fd, release, closed });
    if (!this.#buryScheduled) {
      this.#buryScheduled = true;
      setImmediate(this.#buryLater);
    }
  }

  /**
   * Releases the memory of closed connections once native has processed their close, even when
   * no batch or submission follows: other connections' reads may be parked until that memory
   * (a writer's shared inbound regions) is free. Native processes the queue at its next loop
   * hook, so this re-checks for a turn or two; it stops after kBuryTurns turns regardless (the
   * next batch or submission buries what is left).
   */
  readonly #buryLater = (): void => {
    this.#buryScheduled = false;
    if (this.#graveyard.length > 0) this.#bury();
    if (this.#graveyard.length === 0) {
      this.#buryTurns = 0;
    } else if (++this.#buryTurns < kBuryTurns) {
      this.#buryScheduled = true;
      setImmediate(this.#buryLater);
    }
  };

  /**
   * Lists an output queue that handed bytes to native; from the next batch on the dispatcher
   * settles it (releases what was written) until nothing of it is in flight.
   */
  watchOutput(queue: OutputQueue): void {
    this.#inFlight.push(queue);
  }

  /** Bytes native has written on `fd` since it was registered, modulo 2^32. */
  written(fd: number): number {
    return this.#fdState[fd * L.kFdStateInts + L.kFdWritten]! >>> 0;
  }

  /** Closes lingering in native now (connections closed by JS, and swept listener backlogs). */
  get lingering(): number {
    return this.#stats[L.kStatLingering]!;
  }

  /** Calls `callback` once no close lingers any more (at once when none does). */
  whenLingerDone(callback: () => void): void {
    if (this.lingering === 0) callback();
    else this.#lingerWaiters.push(callback);
  }

  /**
   * Cuts off the lingering close of `fd` (a shutdown deadline): native closes it now, in this
   * call, and its `closed` callback learns whether output was still undelivered. A no-op when it
   * is no longer lingering. One JS→native call or two (a close not yet processed is processed
   * first); shutdown deadlines only.
   */
  forceClose(fd: number): void {
    if (this.#lingering[fd] === undefined && this.#graveyard.some((entry) => entry.fd === fd)) {
      this.#jsToNative++;
      this.binding.flush(); // native processes the queued close: the fd lingers or is closed
      this.#bury();
    }
    const closed = this.#lingering[fd];
    if (closed === undefined) return;
    this.#lingering[fd] = undefined;
    this.#jsToNative++;
    const cut = this.binding.close(fd, 0) === 1;
    closed(cut);
    if (this.#lingerWaiters.length > 0) this.#checkLingerDone();
  }

  /** True while native holds unsent output for `fd` after EAGAIN. */
  blocked(fd: number): boolean {
    return (this.#fdState[fd * L.kFdStateInts + L.kFdFlags]! & L.kFdFlagBackpressure) !== 0;
  }

  stats(): ReactorStats {
    return snapshotStats(this.#stats, {
      jsToNativeCalls: this.#jsToNative,
      records: this.#records,
      inboundSlabs: this.inbound.count,
      outboundSlabs: this.#outboundSlabs,
    });
  }

  #submit(word: number, fd: number, a: number, b: number): void {
    const control = this.#control;
    let count = control[L.kHeaderSubmitCount]!;
    if (count >= L.kMaxSubmits) {
      // Full queue (a burst outside any batch): let native drain it now. Rare by design.
      this.#jsToNative++;
      this.binding.flush();
      count = 0;
    }
    const base = L.kSubmitBase + count * L.kRecordInts;
    control[base] = word;
    control[base + 1] = fd;
    control[base + 2] = a;
    control[base + 3] = b;
    control[L.kHeaderSubmitCount] = count + 1;
    if (this.#graveyard.length > 0) this.#bury();
  }

  #bury(): void {
    const generation = this.#control[L.kHeaderProcessedGen]!;
    const graveyard = this.#graveyard;
    let kept = 0;
    for (let i = 0; i < graveyard.length; i++) {
      const entry = graveyard[i]!;
      if (entry.generation === generation) {
        graveyard[kept++] = entry;
        continue;
      }
      entry.release();
      if ((this.#fdState[entry.fd * L.kFdStateInts + L.kFdFlags]! & L.kFdFlagLingering) !== 0) {
        // Native processed the close and lingers: the fd stays open until a linger-done record
        // (the flag is clear once it finished).
        this.#lingering[entry.fd] = entry.closed;
      } else {
        entry.closed(false);
      }
    }
    graveyard.length = kept;
    if (this.#lingerWaiters.length > 0) this.#checkLingerDone();
  }

  #lingerDone(fd: number, expired: boolean): void {
    const closed = this.#lingering[fd];
    if (closed !== undefined) {
      this.#lingering[fd] = undefined;
      closed(expired);
    }
    if (this.#lingerWaiters.length > 0) this.#checkLingerDone();
  }

  #checkLingerDone(): void {
    if (this.lingering !== 0) return;
    const waiters = this.#lingerWaiters;
    this.#lingerWaiters = [];
    for (const waiter of waiters) waiter();
  }

  #registerOutbound(buffer: ArrayBuffer): number {
    this.#jsToNative++;
    const index = this.binding.addSlab(buffer, false);
    if (index < 0) throw systemError(index, 'addSlab');
    this.#outboundSlabs++;
    return index;
  }

  // ---- the dispatcher: one call per batch -----------------------------------------------------

  #dispatch(): void {
    this.batchTime = monotonicNow();
    const control = this.#control;
    if (this.#graveyard.length > 0) this.#bury();
    if (this.#inFlight.length > 0) this.#settleOutputs();
    const count = control[L.kHeaderRecordCount]!;
    this.#records += count;
    for (let i = 0; i < count; i++) {
      const base = L.kRecordBase + i * L.kRecordInts;
      const word = control[base]!;
      const fd = control[base + 1]!;
      try {
        this.#dispatchRecord(word & 0xff, word >>> 8, fd, control[base + 2]!, control[base + 3]!);
      } catch (error) {
        // Connections contain their own failures; this is a last line of defence so one record
        // can never stop the batch.
        process.emitWarning(error as Error);
      }
    }
    // Every slab is referenced: grow within the cap. At the cap, buffered input that no view
    // refers to moves out of the slabs (each connection holds only its readHighWaterMark share,
    // but small regions of many connections can still pin every slab); native resumes the stalled
    // reads from its loop hooks once a slab is free, so nothing spins meanwhile.
    if ((control[L.kHeaderFlags]! & L.kBatchFlagNeedSlab) !== 0 && !this.inbound.grow()) {
      this.#evacuate();
    }
  }

  #evacuate(): void {
    let moved = 0;
    const streams = this.#streams;
    for (let fd = 0; fd < streams.length; fd++) {
      const stream = streams[fd];
      if (stream !== undefined) moved += stream.evacuateInput();
    }
    if (reactorStallChannel.hasSubscribers) {
      reactorStallChannel.publish({
        inboundMemory: this.inbound.memory,
        maxInboundMemory: this.inbound.maxMemory,
        evacuatedBytes: moved,
      });
    }
  }

  /**
   * Native wrote after the previous batch: release the written output of every listed queue now,
   * rather than at that connection's next flush, so memory the bytes held (outbound nodes,
   * pinned inbound slabs) is free for this batch's reads. Two arrays swap roles, so settling
   * allocates nothing; a queue that is still sending is kept for the next batch.
   */
  #settleOutputs(): void {
    const queues = this.#inFlight;
    const kept = this.#inFlightSpare;
    this.#inFlight = kept;
    this.#inFlightSpare = queues;
    for (let i = 0; i < queues.length; i++) {
      const queue = queues[i]!;
      if (!queue.settle()) kept.push(queue);
    }
    while (queues.length > 0) queues.pop();
  }

  #dispatchRecord(kind: number, slab: number, fd: number, a: number, b: number): void {
    switch (kind) {
      case L.kRecordData: {
        const stream = this.#streams[fd];
        if (stream === undefined) return;
        this.#control[L.kSlabRefBase + slab]!++;
        stream.onData(this.inbound.buffer(slab), a, a + b, slab);
        return;
      }
      case L.kRecordAccept: {
        const listener = this.#listeners[a];
        if (listener === undefined) {
          // Nobody serves that listener any more: close the connection unread, lingering so its
          // peer reads EOF, not a reset.
          this.#submit(L.kSubmitClose, fd, kDefaultConnectionOptions.lingerTimeout, 0);
          return;
        }
        listener.onAccept(fd);
        return;
      }
      case L.kRecordConnect:
        this.#streams[fd]?.onConnectResult(a);
        return;
      case L.kRecordHangup:
        this.#streams[fd]?.onHangup(a);
        return;
      case L.kRecordDrain:
        this.#streams[fd]?.onDrain();
        return;
      case L.kRecordFrameTooLarge:
        this.#streams[fd]?.onFrameTooLarge(a >>> 0);
        return;
      case L.kRecordAcceptError:
      case L.kRecordAcceptPaused:
        this.#listeners[fd]?.onAcceptError(a, kind === L.kRecordAcceptPaused);
        return;
      case L.kRecordLingerDone:
        this.#lingerDone(fd, a === 1);
        return;
      case L.kRecordInputEnd:
        this.#streams[fd]?.onInputEnd();
        return;
    }
  }
}
