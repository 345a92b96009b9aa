/**
 * What the call records of a run say about a fault: calls, failures by code, calls lost, the
 * worst lateness past a deadline, failures that are not coded or not where the fault was, how
 * long traffic took to leave the faulted host and to come back. The checks every fault test
 * makes are `violations()`: each names what broke, with an example call.
 */
import { kRpcErrorCodes } from '@netpoll/rpc';
import { kDeadlineSlackMs, kMoveBoundMs, kRecoverBoundMs } from './bounds';
import type { CallRecord, LostCall } from './load';

/** One fault as it happened: where, when injected, when healed (the host usable again). */
export interface FaultWindow {
  readonly name: string;
  /** The endpoint address the client uses for the faulted host. */
  readonly endpoint: string;
  /** The host's name (what its replies carry). */
  readonly host: string;
  readonly injectAt: number;
  readonly healAt: number;
  /** Traffic must leave the host within kMoveBoundMs (false: a degraded host keeps some). */
  readonly moves: boolean;
  /** Failures allowed at all (false: a graceful fault must fail no call). */
  readonly mayFail: boolean;
  /** Bounds other than kMoveBoundMs / kRecoverBoundMs, for faults that need them. */
  readonly moveBoundMs?: number;
  readonly recoverBoundMs?: number;
}

/** Per fault: its failed calls, when traffic had moved, when it was back (see FaultAnalysis). */
export interface FaultResult {
  failed: number;
  moveMs: number;
  recoverMs: number | null;
}

export interface FaultAnalysis {
  readonly calls: number;
  readonly failedByCode: Record<string, number>;
  readonly failedNonIdempotent: number;
  readonly lost: number;
  /** Worst settlement past a call's timeout, ms (negative: every call settled in time). */
  readonly maxOvershootMs: number;
  /** Start of the last failed call, after the injection (ms; 0: none failed after it). */
  readonly moveMs: number;
  /** From the heal to the first call the host answered (ms; null: none did). */
  readonly recoverMs: number | null;
  /** Failures without a stable ERR_NETPOLL_* code. */
  readonly uncoded: CallRecord[];
  /** Failures that are not on a faulted host in its window. */
  readonly misplaced: CallRecord[];
  /** Failures of calls started after traffic should have moved. */
  readonly late: CallRecord[];
  /** Failures on a healthy host, of calls whose earlier attempt went to the faulted one. */
  readonly retriedAway: number;
  /** Each fault window's own failures, move and recovery times. */
  readonly perFault: Map<FaultWindow, FaultResult>;
}

const kCodes = new Set<string>(kRpcErrorCodes);

/**
 * The fault whose host and window a failed call belongs to, if any: one of its attempts went to
 * the faulted host, and the call overlaps the fault's window. Any attempt, not only the last: a
 * call written to a host that hangs fails there only when its connection is found hung (up to
 * kHungDetectMs later); the client then retries it (idempotent) elsewhere with what is left of
 * its deadline — sometimes a few ms — and it times out on a healthy host that was never given
 * the time to answer. Its failure is the fault's.
 */
function faultOf(record: CallRecord, faults: readonly FaultWindow[]): FaultWindow | undefined {
  const endpoints = record.endpoints.length > 0 ? record.endpoints : [record.endpoint];
  return faults.find(
    (fault) =>
      endpoints.includes(fault.endpoint) &&
      record.end >= fault.injectAt &&
      record.start <= fault.healAt + kRecoverBoundMs,
  );
}

export function analyse(
  records: readonly CallRecord[],
  lost: readonly LostCall[],
  faults: readonly FaultWindow[],
): FaultAnalysis {
  const failedByCode: Record<string, number> = {};
  const uncoded: CallRecord[] = [];
  const misplaced: CallRecord[] = [];
  const late: CallRecord[] = [];
  const perFault = new Map<FaultWindow, FaultResult>();
  for (const fault of faults) perFault.set(fault, { failed: 0, moveMs: 0, recoverMs: null });
  let failedNonIdempotent = 0;
  let retriedAway = 0;
  let maxOvershootMs = Number.NEGATIVE_INFINITY;
  for (const record of records) {
    maxOvershootMs = Math.max(maxOvershootMs, record.end - record.start - record.timeout);
    if (record.code === null) {
      for (const fault of faults) {
        if (record.servedBy !== fault.endpoint || record.start < fault.healAt) continue;
        const result = perFault.get(fault)!;
        const recover = record.end - fault.healAt;
        if (result.recoverMs === null || recover < result.recoverMs) result.recoverMs = recover;
      }
      continue;
    }
    failedByCode[record.code] = (failedByCode[record.code] ?? 0) + 1;
    if (!record.idempotent) failedNonIdempotent++;
    if (!kCodes.has(record.code) || typeof record.processed !== 'boolean') uncoded.push(record);
    // The deadline test's sleeps are meant to fail, wherever they run; that test checks how.
    if (record.method === 'sleep') continue;
    const fault = faultOf(record, faults);
    if (fault === undefined || !fault.mayFail) {
      misplaced.push(record);
      continue;
    }
    if (record.endpoint !== fault.endpoint) retriedAway++;
    const result = perFault.get(fault)!;
    result.failed++;
    const since = record.start - fault.injectAt;
    result.moveMs = Math.max(result.moveMs, since);
    if (fault.moves && since > (fault.moveBoundMs ?? kMoveBoundMs)) late.push(record);
  }
  let moveMs = 0;
  let recoverMs: number | null = null;
  for (const result of perFault.values()) {
    moveMs = Math.max(moveMs, result.moveMs);
    if (result.recoverMs !== null) recoverMs = Math.max(recoverMs ?? 0, result.recoverMs);
  }
  return {
    calls: records.length + lost.length,
    failedByCode,
    failedNonIdempotent,
    lost: lost.length,
    maxOvershootMs,
    moveMs,
    recoverMs,
    uncoded,
    misplaced,
    late,
    retriedAway,
    perFault,
  };
}

/** What broke, one line each (empty: the run is as it must be). */
export function violations(analysis: FaultAnalysis): string[] {
  const out: string[] = [];
  const example = (records: CallRecord[]): string => JSON.stringify(records[0]);
  if (analysis.lost > 0) out.push(`${analysis.lost} calls lost (never settled)`);
  if (analysis.maxOvershootMs > kDeadlineSlackMs) {
    out.push(
      `a call settled ${analysis.maxOvershootMs.toFixed(0)} ms past its deadline (slack ${kDeadlineSlackMs} ms)`,
    );
  }
  if (analysis.uncoded.length > 0) {
    out.push(
      `${analysis.uncoded.length} failures without a stable code: ${example(analysis.uncoded)}`,
    );
  }
  if (analysis.misplaced.length > 0) {
    out.push(
      `${analysis.misplaced.length} failures away from the fault: ${example(analysis.misplaced)}`,
    );
  }
  if (analysis.late.length > 0) {
    out.push(
      `${analysis.late.length} failures of calls started after traffic should have moved (${kMoveBoundMs} ms unless the fault says): ${example(analysis.late)}`,
    );
  }
  for (const [fault, result] of analysis.perFault) {
    if (result.recoverMs === null)
      out.push(`${fault.name}: no call reached ${fault.host} after the heal`);
    else if (result.recoverMs > (fault.recoverBoundMs ?? kRecoverBoundMs)) {
      out.push(
        `${fault.name}: traffic back on ${fault.host} after ${result.recoverMs.toFixed(0)} ms (bound ${fault.recoverBoundMs ?? kRecoverBoundMs} ms)`,
      );
    }
  }
  return out;
}
