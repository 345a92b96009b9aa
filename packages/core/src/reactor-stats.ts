/**
 * The reactor's always-on debug counters: most are written by native into a shared Float64Array
 * (names and order in `kStatNames` of `./layout`), the rest are counted by the JS side.
 */
import * as L from './layout';

/** Counters of {@link getReactorStats}: all plain integers, always on. */
export interface ReactorStats {
  /** Batches drained (poll callbacks that found events). */
  batches: number;
  /** Readiness events handled. */
  events: number;
  /** Native→JS calls (one per batch that produced records). */
  nativeToJsCalls: number;
  /** JS→native calls of any kind (listen, connect, slab registration, pause/resume, …). */
  jsToNativeCalls: number;
  /** recv() calls. */
  reads: number;
  bytesRead: number;
  /** Write system calls: `send` for one contiguous chunk, `sendmsg` (writev) for several. */
  writevCalls: number;
  bytesWritten: number;
  accepts: number;
  /** Writes that hit EAGAIN (backpressure episodes). */
  writeBlocked: number;
  /** Accept pauses because of EMFILE/ENFILE. */
  acceptBackoffs: number;
  /** Submission queues flushed by the prepare/check hooks (late replies). */
  hookFlushes: number;
  /** Submissions (writes + closes) executed by native. */
  submissions: number;
  /**
   * Times a connection's reading was parked because no inbound slab was free and the pool was at
   * `maxInboundMemory` (its data waits in the kernel; nothing spins).
   */
  readStalls: number;
  /** Parked connections armed again after slab memory was released. */
  readResumes: number;
  /** Closes lingering now (finishing output, waiting for the peer's EOF or the deadline). */
  lingering: number;
  /** Closes that lingered because closing at once could have lost or reset bytes. */
  lingerCloses: number;
  /** Lingering closes cut off at their deadline (the peer neither read nor closed in time). */
  lingerExpired: number;
  /** Records dispatched to connections. */
  records: number;
  /** Inbound slabs registered (ArrayBuffers allocated for reads). */
  inboundSlabs: number;
  /** Outbound ArrayBuffers registered now (shared slabs plus dedicated large buffers). */
  outboundSlabs: number;
}

/** The counters the JS side keeps itself. */
export type JsReactorCounters = Pick<
  ReactorStats,
  'jsToNativeCalls' | 'records' | 'inboundSlabs' | 'outboundSlabs'
>;

/** A fresh snapshot of the native counters plus the JS ones. Not for the hot path. */
export function snapshotStats(native: Float64Array, js: JsReactorCounters): ReactorStats {
  const result: Record<string, number> = {};
  for (let i = 0; i < L.kStatNames.length; i++) result[L.kStatNames[i]!] = native[i]!;
  return { ...(result as unknown as ReactorStats), ...js };
}
