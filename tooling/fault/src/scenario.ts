/**
 * One fault under load, as every fault test runs it: load on all three hosts, a warm-up, the
 * resources sampled, the fault injected and held, healed, the recovery bound waited out, the
 * resources sampled again, the load stopped — then the analysis, the resource deltas, and what
 * broke.
 */
import { analyse, type FaultAnalysis, type FaultWindow, violations } from './analysis';
import { kRecoverBoundMs, kResourceBounds } from './bounds';
import type { Cluster, ResourceSnapshot, ServerName } from './cluster';
import type { Fault } from './faults';
import { clock, type LoadResult, sleep } from './load';

export interface ScenarioResult {
  readonly fault: Fault;
  readonly window: FaultWindow;
  readonly analysis: FaultAnalysis;
  readonly load: LoadResult;
  readonly before: ResourceSnapshot;
  readonly after: ResourceSnapshot;
  readonly problems: string[];
}

export async function runScenario(
  cluster: Cluster,
  fault: Fault,
  host: ServerName,
  holdMs = 3000,
): Promise<ScenarioResult> {
  await cluster.startLoad();
  await sleep(1000);
  const before = await cluster.resources();
  const window = await holdFault(cluster, fault, host, holdMs);
  await sleep(kRecoverBoundMs + 1000);
  const after = await cluster.resources();
  const load = await cluster.stopLoad();
  const analysis = analyse(load.records, load.lost, [window]);
  const problems = problemsOf({ analysis, before, after });
  return { fault, window, analysis, load, before, after, problems };
}

/** Injects `fault` on `host`, holds it `holdMs`, heals it; returns its window for the analysis. */
export async function holdFault(
  cluster: Cluster,
  fault: Fault,
  host: ServerName,
  holdMs: number,
): Promise<FaultWindow> {
  const injectAt = clock();
  await fault.inject(cluster, host);
  await sleep(holdMs);
  await fault.heal(cluster, host);
  return {
    name: fault.name,
    endpoint: cluster.endpointOf(host),
    host,
    injectAt,
    healAt: clock(),
    moves: fault.moves,
    mayFail: fault.mayFail,
  };
}

/** What a run measures, for problemsOf and summarize (a scenario, or a test's own sequence). */
export type Measured = Pick<ScenarioResult, 'analysis' | 'load' | 'before' | 'after'>;

/** What broke: the analysis's violations, then the resource deltas beyond their bounds. */
export function problemsOf({ analysis, before, after }: Omit<Measured, 'load'>): string[] {
  return [...violations(analysis), ...resourceProblems(before, after)];
}

/** Resource deltas beyond kResourceBounds, per process sampled both times. */
export function resourceProblems(before: ResourceSnapshot, after: ResourceSnapshot): string[] {
  const out: string[] = [];
  for (const [name, first] of Object.entries(before)) {
    const last = after[name];
    if (first.fd < 0) continue; // not measurable before (out of descriptors)
    if (last === undefined || last.fd < 0) {
      out.push(`${name}: no resource sample after the fault`);
      continue;
    }
    if (last.fd - first.fd > kResourceBounds.fdDelta) {
      out.push(`${name}: ${first.fd} → ${last.fd} descriptors (bound +${kResourceBounds.fdDelta})`);
    }
    if (last.rss - first.rss > kResourceBounds.rssDeltaBytes) {
      out.push(
        `${name}: RSS ${mib(first.rss)} → ${mib(last.rss)} (bound +${mib(kResourceBounds.rssDeltaBytes)})`,
      );
    }
  }
  return out;
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * One line per scenario for the log, `fault LABEL: ...` (LABEL: the fault and its host): calls,
 * failures by code, lost, move and recovery times.
 */
export function summarize(label: string, result: Measured): string {
  const { analysis, before, after } = result;
  const failed = Object.entries(analysis.failedByCode)
    .map(([code, count]) => `${code.replace('ERR_NETPOLL_RPC_', '')} ${count}`)
    .join(', ');
  const deltas = Object.keys(before)
    .sort()
    .map((name) => {
      const a = before[name]!;
      const b = after[name];
      if (b === undefined) return `${name} ?`;
      return `${name} fd ${signed(b.fd - a.fd)} rss ${signed(Math.round((b.rss - a.rss) / 1024 / 1024))}M`;
    })
    .join('; ');
  return [
    `fault ${label}:`,
    `${analysis.calls} calls, failed {${failed || 'none'}}, lost ${analysis.lost},`,
    `max past deadline ${analysis.maxOvershootMs.toFixed(0)} ms, moved ${analysis.moveMs.toFixed(0)} ms,`,
    `recovered ${analysis.recoverMs === null ? '—' : analysis.recoverMs.toFixed(0)} ms,`,
    `loop p99 ${result.load.loopDelay.p99.toFixed(0)} ms; ${deltas}`,
  ].join(' ');
}

function signed(value: number): string {
  return value >= 0 ? `+${value}` : String(value);
}
