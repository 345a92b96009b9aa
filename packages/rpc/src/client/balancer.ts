/**
 * Picks the endpoint for each call, synchronously, from the client's current endpoints. Both
 * balancers prefer endpoints with a connection ready; when none is, they pick one that is not
 * ejected (the call waits there for a connection); when every endpoint is ejected they pick none
 * and the call fails fast. An endpoint passed over for not being ready is told to connect
 * (`warm()`), else one that never got a call would never be dialed while another is ready.
 */
import type { Endpoint } from './endpoint';

/** A load balancer: `pick` returns an endpoint or null. */
export interface Balancer {
  pick(endpoints: readonly Endpoint[]): Endpoint | null;
}

/** Endpoints in turn, starting at a random one (so clients do not all start on the same). */
export class RoundRobinBalancer implements Balancer {
  #next = Math.floor(Math.random() * 1024);

  pick(endpoints: readonly Endpoint[]): Endpoint | null {
    const count = endpoints.length;
    let fallback: Endpoint | null = null;
    for (let i = 0; i < count; i++) {
      const endpoint = endpoints[(this.#next + i) % count]!;
      if (endpoint.ejected) continue;
      if (endpoint.ready) {
        this.#next = (this.#next + i + 1) % count;
        return endpoint;
      }
      endpoint.warm();
      fallback ??= endpoint;
    }
    this.#next++;
    return fallback;
  }
}

/**
 * Least pending calls by the power of two choices: two ready endpoints at random, the one with
 * fewer calls in flight wins — close to the best choice without looking at every endpoint.
 */
export class LeastPendingBalancer implements Balancer {
  readonly #fallback = new RoundRobinBalancer();

  pick(endpoints: readonly Endpoint[]): Endpoint | null {
    const count = endpoints.length;
    if (count === 0) return null;
    const first = endpoints[Math.floor(Math.random() * count)]!;
    const second = endpoints[Math.floor(Math.random() * count)]!;
    const a = first.ready && !first.ejected ? first : null;
    const b = second.ready && !second.ejected ? second : null;
    if (a === null && !first.ejected) first.warm();
    if (b === null && !second.ejected) second.warm();
    if (a !== null && b !== null) return a.pending <= b.pending ? a : b;
    return a ?? b ?? this.#fallback.pick(endpoints);
  }
}
