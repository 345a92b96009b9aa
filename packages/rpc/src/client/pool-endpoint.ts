/**
 * `transport: 'pool'`: one call per connection at a time, from a long-lived pool per endpoint
 * (Kitex's long pool). Idle connections form a LIFO stack — the most recently used is taken
 * first, the oldest age out first (`maxIdleTime`) — and each is checked with `isActive()` when
 * taken (a connection the server closed meanwhile is dropped, and the next one tried). At most
 * `maxActive` connections carry calls; beyond that a call waits, first come first served, up to
 * `acquireTimeout`, then fails with `ERR_NETPOLL_RPC_POOL_EXHAUSTED`. Taking a connection
 * allocates nothing.
 */
import { now } from '../clock';
import { RpcError } from '../errors';
import type { Call } from './call';
import type { ClientConnection } from './client-connection';
import { Endpoint } from './endpoint';

export class PoolEndpoint extends Endpoint {
  readonly #idle: ClientConnection[] = [];
  /** Every open connection (idle or carrying a call); changes only on connect and close. */
  readonly #all: ClientConnection[] = [];
  #active = 0;
  #waitTimer: NodeJS.Timeout | null = null;

  /** An idle connection, or room to dial one now (not while backing off after a failed dial). */
  get ready(): boolean {
    if (this.#idle.length > 0) return true;
    return !this.backingOff && this.#active + this.dialing < this.options.pool.maxActive;
  }

  get pending(): number {
    return this.#active + this.waiting.length;
  }

  /**
   * An idle connection that is still alive, now counted active, or null (LIFO; dead ones are
   * dropped). Give it back with {@link checkin}.
   */
  checkout(): ClientConnection | null {
    const idle = this.#idle;
    while (idle.length > 0) {
      const connection = idle.pop()!;
      if (connection.usable) {
        connection.active = true;
        this.#active++;
        return connection;
      }
      connection.connection.close();
    }
    return null;
  }

  /** A connection is free: the oldest waiting call takes it, else it goes to the idle stack. */
  checkin(connection: ClientConnection): void {
    this.#release(connection);
  }

  send(call: Call, time?: number): void {
    const connection = this.checkout();
    if (connection !== null) {
      connection.send(call, time);
      return;
    }
    call.waitUntil = now() + this.options.pool.acquireTimeout;
    this.waiting.push(call);
    if (this.#active + this.dialing < this.options.pool.maxActive) this.dial();
    else this.#armWait();
  }

  tick(time: number): void {
    for (const connection of this.#all) if (connection.active) connection.checkLiveness(time);
    this.dropSettled();
    // The oldest idle connections sit at the bottom of the stack, the unstamped ones at the top.
    const maxIdleTime = this.options.pool.maxIdleTime;
    const idle = this.#idle;
    for (let i = idle.length - 1; i >= 0 && idle[i]!.idleSince < 0; i--) idle[i]!.idleSince = time;
    while (maxIdleTime > 0 && idle.length > 0 && time - idle[0]!.idleSince > maxIdleTime) {
      idle.shift()!.connection.close();
    }
  }

  protected connectionCount(): number {
    return this.#all.length;
  }

  protected connected(connection: ClientConnection): void {
    this.#all.push(connection);
    connection.active = true;
    this.#active++;
    this.#release(connection);
  }

  #release(connection: ClientConnection): void {
    if (!connection.active) return;
    const usable = connection.usable;
    if (usable) {
      while (this.waiting.length > 0) {
        const call = this.waiting.shift()!;
        if (call.finished) continue;
        connection.send(call);
        return;
      }
    }
    connection.active = false;
    this.#active--;
    if (!usable || this.closed || this.#idle.length >= this.options.pool.maxIdle) {
      connection.closeWhenIdle();
      if (!usable && this.waiting.length > 0) {
        // It takes no more calls (GOAWAY, CLOSING): the waiting calls go to the balancer again.
        // Taken out first: those that come back here queue anew (and dial a new connection),
        // rather than join the queue being walked, which would never end.
        const waiting = this.waiting.splice(0);
        for (const call of waiting) if (!call.finished) this.host.redispatch(call);
      }
      return;
    }
    // Stamped by the next tick (no clock read per checkin): that tick's time is no earlier than
    // the real start, so a connection is never closed before it was idle for maxIdleTime.
    connection.idleSince = -1;
    this.#idle.push(connection);
  }

  connectionClosed(connection: ClientConnection, _error: RpcError | null): void {
    if (connection.active) {
      connection.active = false;
      this.#active--;
    }
    const all = this.#all.indexOf(connection);
    if (all >= 0) this.#all.splice(all, 1);
    const index = this.#idle.indexOf(connection);
    if (index >= 0) this.#idle.splice(index, 1);
    if (!this.closed && this.waiting.length > 0) this.dial();
    this.redialIfIdle();
  }

  callDone(connection: ClientConnection): void {
    if (connection.pending === 0) this.#release(connection);
  }

  /** GOAWAY: the connection is not reused; a new one replaces it for the next call. */
  connectionDraining(connection: ClientConnection): void {
    connection.closeWhenIdle();
  }

  protected retire(): void {
    if (this.#waitTimer !== null) clearTimeout(this.#waitTimer);
    this.#waitTimer = null;
    for (const connection of this.#idle.splice(0)) connection.connection.close();
    for (const connection of [...this.#all]) if (connection.active) connection.closeWhenIdle();
  }

  destroy(error: RpcError): void {
    for (const connection of [...this.#all]) connection.destroy(error);
  }

  /** Fails waiting calls whose `acquireTimeout` passed; re-arms for the next one. */
  #armWait(): void {
    if (this.#waitTimer !== null || this.waiting.length === 0) return;
    const delay = Math.max(0, Math.ceil(this.waiting[0]!.waitUntil - now()));
    this.#waitTimer = setTimeout(() => {
      this.#waitTimer = null;
      const time = now();
      while (this.waiting.length > 0 && this.waiting[0]!.waitUntil <= time) {
        const call = this.waiting.shift()!;
        call.fail(
          new RpcError(
            'ERR_NETPOLL_RPC_POOL_EXHAUSTED',
            `no connection to ${this.address} was free within ${this.options.pool.acquireTimeout} ms (maxActive ${this.options.pool.maxActive})`,
            { processed: false },
          ),
        );
      }
      this.#armWait();
    }, delay);
  }
}
