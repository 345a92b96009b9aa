/**
 * The client's settings under test and every time bound the fault tests assert, derived from
 * them in one place so a change of setting moves its bounds with it.
 */

/** `@netpoll/rpc` client options of the load client (the settings the bounds follow from). */
export const kClientOptions = {
  transport: 'mux',
  connections: 2,
  serializer: 'json',
  balancer: 'least-pending',
  timeout: 1000,
  dialTimeout: 500,
  pingInterval: 400,
  pingTimeout: 400,
  backoffInitial: 100,
  backoffMax: 800,
  ejectAfter: 3,
} as const;

/** The client's liveness ticker period (rpc's client: max(20, min(interval, timeout) / 2)). */
export const kTickMs = Math.max(
  20,
  Math.min(kClientOptions.pingInterval, kClientOptions.pingTimeout) / 2,
);

/**
 * Lateness a timer-driven settlement may have on this shared 2-core machine: the event loop of
 * the client process runs a load of a few hundred calls a second beside three servers and other
 * engineers' jobs. Measured event-loop delay of the client stays under ~50 ms p99; the slack
 * leaves room for GC pauses and the scheduler.
 */
export const kSlackMs = 250;

/**
 * No call may settle later than its timeout plus this. It bounds the latest of thousands of
 * settlements, so one GC pause or scheduler stall of the client lands in it: wider than
 * `kSlackMs`, still far below what a call settled by some later event (a ping, a close, the next
 * call) would show.
 */
export const kDeadlineSlackMs = 1000;

/**
 * A silent host (stopped, cut off, blackholed) is found by pings: a connection silent for
 * pingInterval is pinged at the next tick, and closed at the first tick after pingTimeout
 * without a pong.
 */
export const kHungDetectMs =
  kClientOptions.pingInterval + kTickMs + kClientOptions.pingTimeout + kTickMs;

/**
 * Failures of a hung host before it is ejected: every connection found hung counts one, so it
 * takes ceil(ejectAfter / connections) rounds of connections. Each later round re-dials after
 * the backoff of the failures so far (+20 % jitter); the new connection is probed with a ping at
 * once and found hung at the first tick after pingTimeout — and takes calls meanwhile, as the
 * endpoint is not ejected yet.
 */
function ejectionMs(hungPerRound: number): number {
  const { ejectAfter, backoffInitial, backoffMax, pingTimeout } = kClientOptions;
  const rounds = Math.ceil(ejectAfter / hungPerRound);
  let total = kHungDetectMs;
  for (let round = 2; round <= rounds; round++) {
    const failures = (round - 1) * hungPerRound;
    const backoff = Math.min(backoffMax, backoffInitial * 2 ** (failures - 1)) * 1.2;
    total += backoff + pingTimeout + kTickMs;
  }
  return Math.ceil(total);
}

/**
 * Traffic has moved off a failed host when no call started later than this after the fault
 * fails: calls go to a silent host (stopped, cut off, blackholed) until it is ejected
 * (ejectionMs; a host that refuses or times out dials is never picked without a connection),
 * plus the slack.
 */
export const kMoveBoundMs = ejectionMs(kClientOptions.connections) + kSlackMs;

/** Longest pause of @netpoll/core's accept back-off after EMFILE (core's README). */
export const kAcceptBackoffMaxMs = 1000;

/**
 * Traffic is back on a healed host within this: an endpoint re-dials after at most backoffMax
 * (+20 % jitter), the dial itself takes at most dialTimeout, and the first call follows at once
 * under load; a connection found dead just after the heal adds one detection.
 */
export const kRecoverBoundMs =
  Math.ceil(kClientOptions.backoffMax * 1.2) +
  kClientOptions.dialTimeout +
  kHungDetectMs +
  kSlackMs;

/** The load: workers calling in a closed loop, each pausing this long between calls. */
export const kLoad = { workers: 24, pauseMs: 20 } as const;

/**
 * Resources after a fault, compared with before it (GC run first in each process): descriptors
 * may differ by the connections being re-dialled at that moment; RSS may grow by what the
 * allocator keeps after the spike of a fault (failed calls, buffered requests).
 */
export const kResourceBounds = { fdDelta: 4, rssDeltaBytes: 48 * 1024 * 1024 } as const;
