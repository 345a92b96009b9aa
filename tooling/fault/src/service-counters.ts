/**
 * What the tests read of the Echo service on a server host: the calls its reactors counted
 * (apps/echo's metrics tally: every call that reached a handler, by method and answered code),
 * as the counts the tests need.
 */
import type { TallyTotals } from '@netpoll/app-echo';

export interface ServiceCounters {
  /** `echo` calls answered. */
  echo: number;
  /** `sleep` calls whose handler ran and has ended (answered or aborted). */
  sleepHandled: number;
  /** `sleep` calls that worked their whole time. */
  sleepCompleted: number;
  /**
   * `sleep` handlers that stopped because the call's signal aborted, by the abort's code
   * (DEADLINE_EXCEEDED, CANCELLED, CONNECTION_CLOSED: the service answers with the reason's code).
   */
  sleepAborted: Record<string, number>;
}

export function countersOf(totals: TallyTotals): ServiceCounters {
  const echo = totals.calls.echo ?? {};
  const sleep = totals.calls.sleep ?? {};
  const sleepAborted: Record<string, number> = {};
  let sleepHandled = 0;
  for (const [code, count] of Object.entries(sleep)) {
    sleepHandled += count;
    if (code !== 'OK') sleepAborted[code] = count;
  }
  return { echo: echo.OK ?? 0, sleepHandled, sleepCompleted: sleep.OK ?? 0, sleepAborted };
}
