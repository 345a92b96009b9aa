/**
 * One server address of a client and its connections. The base class dials, and after a failed
 * dial, or a connection whose ping goes unanswered, backs off (doubling from `backoffInitial` to
 * `backoffMax`, with ±20 % jitter) and, after `ejectAfter` failures in a row, takes the endpoint
 * out of the balancer until its server answers again.
 * {@link MuxEndpoint} keeps `connections` connections with many calls on each; `PoolEndpoint`
 * (./pool-endpoint) one call per connection.
 */
import { dialConnection } from '@netpoll/core';
import { now } from '../clock';
import { closedError, type RpcError, unavailableError } from '../errors';
import type { ResolvedClientOptions } from '../options';
import { type Call, dropSettled } from './call';
import { ClientConnection, type ConnectionHost } from './client-connection';

/** What an endpoint needs from its client. */
export interface EndpointHost {
  readonly options: ResolvedClientOptions;
  /** A call this endpoint cannot place (it failed): send it to another, or fail it. */
  redispatch(call: Call): void;
}

/** What `client.stats()` reports per endpoint. */
export interface EndpointStats {
  readonly address: string;
  readonly connections: number;
  readonly pending: number;
  readonly waiting: number;
  /**
   * Dial failures and connections found hung, in a row (0 once the server answers on a
   * connection; with pings disabled, once a dial works).
   */
  readonly failures: number;
  /** Out of the balancer after `ejectAfter` failures, until the server answers again. */
  readonly ejected: boolean;
}

export abstract class Endpoint implements ConnectionHost {
  readonly address: string;
  readonly network: 'tcp' | 'unix';
  protected readonly host: EndpointHost;
  protected readonly options: ResolvedClientOptions;
  /** Calls waiting here for a connection. */
  protected readonly waiting: Call[] = [];
  protected dialing = 0;
  protected closed = false;
  #failures = 0;
  /**
   * Counted failures so far: a dial remembers the round it began in, and only a failed dial of the
   * current round counts. The dials of one burst (a mux endpoint's `connections`, a pool's waiting
   * calls) fail together and are one failure in a row, not one each: else backoff and ejection
   * would grow with the number of connections, not with the attempts.
   */
  #round = 0;
  #retryAt = 0;
  #redial: NodeJS.Timeout | null = null;
  #lastError: Error | undefined = undefined;

  constructor(address: string, host: EndpointHost) {
    this.address = address;
    this.network = address.startsWith('/') ? 'unix' : 'tcp';
    this.host = host;
    this.options = host.options;
  }

  /** Has a connection that takes a call now. */
  abstract get ready(): boolean;
  /** Calls in flight through it (least-pending balancing). */
  abstract get pending(): number;
  /** Writes `call`, or queues it here until a connection is ready. */
  abstract send(call: Call, time?: number): void;
  /** Periodic upkeep: liveness pings, idle eviction. */
  abstract tick(time: number): void;
  /**
   * The balancer passed it over for not being ready: start connecting if it is idle, so an
   * endpoint no call was sent to yet (a new one, or the others of a list) joins the rotation.
   */
  warm(): void {}
  /** Its open connections. */
  protected abstract connectionCount(): number;
  /** A dial worked: put the connection to use. */
  protected abstract connected(connection: ClientConnection): void;
  /** Closes its connections once their calls are done (the client closes, or it was removed). */
  protected abstract retire(): void;
  /** Closes its connections now; their calls fail with `error`. */
  abstract destroy(error: RpcError): void;
  abstract connectionClosed(connection: ClientConnection, error: RpcError | null): void;
  abstract callDone(connection: ClientConnection): void;
  abstract connectionDraining(connection: ClientConnection): void;

  /** Out of the balancer: too many failures (dials, hung connections), until the server answers. */
  get ejected(): boolean {
    return this.#failures >= this.options.ejectAfter;
  }

  /** Closed, and none of its connections (nor dials) is left. */
  get drained(): boolean {
    return this.closed && this.connectionCount() === 0 && this.dialing === 0;
  }

  /** Waiting out a failed dial. */
  protected get backingOff(): boolean {
    return this.#failures > 0 && now() < this.#retryAt;
  }

  stats(): EndpointStats {
    return {
      address: this.address,
      connections: this.connectionCount(),
      pending: this.pending,
      waiting: this.waiting.length,
      failures: this.#failures,
      ejected: this.ejected,
    };
  }

  /** Stops taking calls; waiting ones go elsewhere (or fail when the client closes). */
  close(reason: 'removed' | 'closed'): void {
    if (this.closed) return;
    this.closed = true;
    if (this.#redial !== null) clearTimeout(this.#redial);
    const waiting = this.waiting.splice(0);
    for (const call of waiting) {
      if (reason === 'removed') this.host.redispatch(call);
      else call.fail(closedError('client'));
    }
    this.retire();
  }

  /** Dials one connection (unless backing off or closed). */
  protected dial(): void {
    if (this.closed || this.backingOff) return;
    this.dialing++;
    const options = this.options;
    const round = this.#round;
    dialConnection(this.network, this.address, {
      timeout: options.dialTimeout,
      framing: { lengthHeader: options.lengthHeader, maxFrameSize: options.maxFrameSize },
    }).then(
      (connection) => {
        this.dialing--;
        if (this.closed) {
          connection.close();
          return;
        }
        const client = new ClientConnection(connection, this, options);
        // A dial that works proves little while failures are counted: a hung server's kernel
        // still accepts. The connection's first frame clears them (connectionAlive); it is
        // pinged at once to get one. Without pings, the dial has to do.
        if (options.pingInterval === 0) this.#failures = 0;
        else if (this.#failures > 0) client.probe();
        this.connected(client);
      },
      (error: Error) => {
        this.dialing--;
        this.#failed(error, round);
      },
    );
  }

  /** ConnectionHost: the server answered on a connection; the endpoint is healthy again. */
  connectionAlive(_connection: ClientConnection): void {
    this.#failures = 0;
  }

  /**
   * ConnectionHost: a connection's ping went unanswered. Counts as a failed dial: backoff, and
   * ejection after `ejectAfter` in a row, else a server that hangs but still accepts connections
   * would take a share of the calls on every new connection, forever.
   */
  connectionHung(_connection: ClientConnection, error: RpcError): void {
    // Each hung connection counts, unlike the dials of one burst: each carried calls that were
    // lost, and counting them all ejects a hung server at once, before more calls go its way.
    this.#failed(error, this.#round);
  }

  /** A dial begun in `round` failed, or (the current round) a connection was found hung. */
  #failed(error: Error, round: number): void {
    this.#lastError = error;
    const counted = round === this.#round;
    let delay = 0;
    if (counted) {
      this.#round++;
      this.#failures++;
      const options = this.options;
      const base = Math.min(options.backoffMax, options.backoffInitial * 2 ** (this.#failures - 1));
      delay = Math.round(base * (0.8 + Math.random() * 0.4));
      this.#retryAt = now() + delay;
    }
    if (this.closed) return;
    // Calls waiting here try the other endpoints; without a connection here they would wait out
    // the backoff.
    if (this.connectionCount() === 0 && this.dialing === 0) {
      const waiting = this.waiting.splice(0);
      for (const call of waiting) if (!call.finished) this.host.redispatch(call);
    }
    // Keep trying in the background, so an ejected endpoint comes back once it works.
    if (counted) {
      this.#armRedial(delay);
    } else {
      // The failed round's re-dial may have fired while this connection was still open, and
      // dialed nothing.
      this.redialIfIdle();
    }
  }

  /**
   * A connection closed, or failed: with failures counted and nothing left here (no connection,
   * no dial, no re-dial armed), dial again once the backoff is over — else an ejected endpoint
   * whose re-dial fired while a connection was still open would never come back.
   */
  protected redialIfIdle(): void {
    if (this.closed || this.#failures === 0 || this.#redial !== null) return;
    if (this.connectionCount() > 0 || this.dialing > 0) return;
    this.#armRedial(Math.max(0, this.#retryAt - now()));
  }

  /** Re-dials after `delay` ms, while failures are counted (the server has not answered since). */
  #armRedial(delay: number): void {
    if (this.#redial !== null) clearTimeout(this.#redial);
    this.#redial = setTimeout(() => {
      this.#redial = null;
      // The timer is the backoff. It can fire up to 1 ms before #retryAt (timers run on libuv's
      // cached, whole-ms clock; #retryAt is on performance.now()), and dial() would then refuse
      // as still backing off and arm nothing: the endpoint would never re-dial.
      this.#retryAt = 0;
      if (this.closed || this.#failures === 0) return;
      // With a connection still open (of the failed round, not found hung yet nor alive), its
      // end decides: a failure or a close arms the re-dial again (redialIfIdle).
      if (this.connectionCount() === 0 && this.dialing === 0) this.dial();
    }, delay);
    this.#redial.unref();
  }

  /** Why the last dial failed (for the error of calls that cannot go anywhere). */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  /** Calls queued here that settled meanwhile (deadline, abort) leave the queue. */
  protected dropSettled(): void {
    dropSettled(this.waiting);
  }
}

/** `transport: 'mux'`: `connections` connections, each call on the one with the fewest in flight. */
export class MuxEndpoint extends Endpoint {
  readonly #connections: ClientConnection[] = [];
  #next = 0;

  get ready(): boolean {
    for (const connection of this.#connections) if (connection.usable) return true;
    return false;
  }

  get pending(): number {
    let pending = this.waiting.length;
    for (const connection of this.#connections) pending += connection.pending;
    return pending;
  }

  send(call: Call, time?: number): void {
    const connections = this.#connections;
    const count = connections.length;
    // The usable connection with the fewest calls in flight; on a tie, one already collecting
    // this tick's requests. The callers woken by one connection's batch of replies refill that
    // connection, so their requests leave in one write (not one per connection), and calls in
    // flight stay even across connections (and so across a server's reactors).
    let best: ClientConnection | null = null;
    let bestScore = Number.POSITIVE_INFINITY;
    for (let i = 0; i < count; i++) {
      const connection = connections[(this.#next + i) % count]!;
      if (!connection.usable) continue;
      const score = connection.pending * 2 - (connection.flushPending ? 1 : 0);
      if (score < bestScore) {
        best = connection;
        bestScore = score;
      }
    }
    if (best !== null) {
      this.#next = (this.#next + 1) % count;
      best.send(call, time);
      if (count < this.options.connections) this.#fill();
      return;
    }
    this.dropSettled();
    this.waiting.push(call);
    this.#fill();
  }

  tick(time: number): void {
    for (const connection of this.#connections) connection.checkLiveness(time);
    this.dropSettled();
  }

  override warm(): void {
    if (this.#connections.length === 0 && this.dialing === 0) this.#fill();
  }

  protected connectionCount(): number {
    return this.#connections.length;
  }

  /** Dials until `connections` are open or being dialed. */
  #fill(): void {
    let usable = 0;
    for (const connection of this.#connections) if (connection.usable) usable++;
    // dial() counts itself in `dialing`: the loop ends once open plus dialing reach the target.
    while (usable + this.dialing < this.options.connections && !this.backingOff && !this.closed) {
      this.dial();
    }
  }

  protected connected(connection: ClientConnection): void {
    this.#connections.push(connection);
    const waiting = this.waiting.splice(0);
    const time = now();
    for (const call of waiting) if (!call.finished) this.send(call, time);
  }

  connectionClosed(connection: ClientConnection, _error: RpcError | null): void {
    const index = this.#connections.indexOf(connection);
    if (index >= 0) this.#connections.splice(index, 1);
    if (this.closed) return;
    if (this.waiting.length > 0) this.#fill();
    this.redialIfIdle();
  }

  callDone(_connection: ClientConnection): void {}

  /** GOAWAY: the server stops; open a replacement (it may be a restarted server). */
  connectionDraining(connection: ClientConnection): void {
    connection.closeWhenIdle();
    if (!this.closed) this.#fill();
  }

  protected retire(): void {
    for (const connection of [...this.#connections]) connection.closeWhenIdle();
  }

  destroy(error: RpcError): void {
    for (const connection of [...this.#connections]) connection.destroy(error);
  }
}

/** Fails a call that no endpoint can take. */
export function noEndpointError(call: Call, cause?: Error): RpcError {
  return unavailableError(
    `no endpoint can take call ${call.method}${cause === undefined ? '' : `: ${cause.message}`}`,
    call.written,
    cause,
  );
}
