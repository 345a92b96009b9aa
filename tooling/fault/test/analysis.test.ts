// The analysis on records made by hand: which fault a failed call belongs to.
import { analyse, type FaultWindow, violations } from '../src/analysis';
import type { CallRecord } from '../src/load';

const kFaulted = '198.18.0.11:7000';
const kHealthy = '198.18.0.13:7000';
const kWindow: FaultWindow = {
  name: 'SIGSTOP + SIGCONT',
  endpoint: kFaulted,
  host: 's1',
  injectAt: 10_000,
  healAt: 12_000,
  moves: true,
  mayFail: true,
};

function timedOut(start: number, endpoints: string[]): CallRecord {
  return {
    start,
    end: start + 1000,
    method: 'echo',
    endpoint: endpoints[endpoints.length - 1]!,
    servedBy: null,
    code: 'ERR_NETPOLL_RPC_TIMEOUT',
    remoteCode: null,
    processed: true,
    idempotent: true,
    timeout: 1000,
    attempts: endpoints.length,
    endpoints,
  };
}

describe('the analysis', () => {
  it('attributes a failure to the fault when any attempt went to the faulted host in its window', () => {
    // First attempt on the hung host, found hung near the deadline, retried on a healthy one
    // with a few ms left: the fault's failure, though it ended elsewhere.
    const analysis = analyse([timedOut(10_100, [kFaulted, kHealthy])], [], [kWindow]);
    expect(analysis.misplaced).toEqual([]);
    expect(analysis.retriedAway).toBe(1);
    expect(analysis.perFault.get(kWindow)!.failed).toBe(1);
  });

  it('still calls a failure misplaced when no attempt touched the faulted host', () => {
    const analysis = analyse([timedOut(10_100, [kHealthy, kHealthy])], [], [kWindow]);
    expect(analysis.misplaced).toHaveLength(1);
    expect(violations(analysis).join()).toMatch(/1 failures away from the fault/);
  });

  it('still calls a failure misplaced when its attempt on the faulted host was outside the window', () => {
    const analysis = analyse([timedOut(30_000, [kFaulted, kHealthy])], [], [kWindow]);
    expect(analysis.misplaced).toHaveLength(1);
  });
});
