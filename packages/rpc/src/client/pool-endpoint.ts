/**
 * `transport: 'pool'`: one call per connection at a time, from a long-lived pool per endpoint
 * (Kitex's long pool). Idle connections form a LIFO stack — the most recently used is taken
 * first, the oldest age out first (`maxIdleTime`) — and each is checked with `isActive()` when
 * taken (a connection the server closed meanwhile is dropped, and the next one tried). At most
 * `maxActive` connections carry calls; beyond that a call waits, first come first served, up to
 * `acquireTimeout`, then fails with `ERR_NETPOLL_RPC_POOL_EXHAUSTED`. Taking a connection
 * allocates nothing.
 */
import { now } from '../deadline-heap';
import { RpcError, type RpcError as RpcErrorType } from '../errors';
import type { Call } from './call';
import type { ClientConnection } from './client-connection';
import { Endpoint } from './endpoint';

export class PoolEndpoint extends Endpoint {
  readonly #idle: ClientConnection[] = [];
  readonly #active = new Set<ClientConnection>();
  #waitTimer: NodeJS.Timeout | null = null;

  get ready(): boolean {
    return this.#idle.length > 0 || this.#active.size + this.dialing < this.options.pool.maxActive;
  }

  get pending(): number {
    return this.#active.size + this.waiting.length;
  }

  /** An idle connection that is still alive, or null (LIFO; dead ones are dropped). */
  checkout(): ClientConnection | null {
    const idle = this.#idle;
    while (idle.length > 0) {
      const connection = idle.pop()!;
      if (connection.usable) return connection;
      connection.connection.close();
    }
    return null;
  }

  send(call: Call): void {
    const connection = this.checkout();
    if (connection !== null) {
      this.#active.add(connection);
      connection.send(call);
      return;
    }
    call.waitUntil = now() + this.options.pool.acquireTimeout;
    this.waiting.push(call);
    if (this.#active.size + this.dialing < this.options.pool.maxActive) this.dial();
    else this.#armWait();
  }

  tick(time: number): void {
    for (const connection of this.#active) connection.checkLiveness(time);
    // The oldest idle connections sit at the bottom of the stack.
    const maxIdleTime = this.options.pool.maxIdleTime;
    const idle = this.#idle;
    while (maxIdleTime > 0 && idle.length > 0 && time - idle[0]!.idleSince > maxIdleTime) {
      idle.shift()!.connection.close();
    }
  }

  protected connectionCount(): number {
    return this.#idle.length + this.#active.size;
  }

  protected connected(connection: ClientConnection): void {
    this.#release(connection);
  }

  /** A connection is free: the oldest waiting call takes it, else it goes to the idle stack. */
  #release(connection: ClientConnection): void {
    this.#active.delete(connection);
    while (this.waiting.length > 0) {
      const call = this.waiting.shift()!;
      if (call.settled) continue;
      if (!connection.usable) {
        this.host.redispatch(call);
        continue;
      }
      this.#active.add(connection);
      connection.send(call);
      return;
    }
    if (!connection.usable || this.closed || this.#idle.length >= this.options.pool.maxIdle) {
      connection.closeWhenIdle();
      return;
    }
    connection.idleSince = now();
    this.#idle.push(connection);
  }

  connectionClosed(connection: ClientConnection, _error: RpcErrorType | null): void {
    this.#active.delete(connection);
    const index = this.#idle.indexOf(connection);
    if (index >= 0) this.#idle.splice(index, 1);
    if (!this.closed && this.waiting.length > 0) this.dial();
  }

  callDone(connection: ClientConnection): void {
    if (connection.pending === 0 && this.#active.has(connection)) this.#release(connection);
  }

  /** GOAWAY: the connection is not reused; a new one replaces it for the next call. */
  connectionDraining(connection: ClientConnection): void {
    connection.closeWhenIdle();
  }

  protected retire(): void {
    if (this.#waitTimer !== null) clearTimeout(this.#waitTimer);
    for (const connection of this.#idle.splice(0)) connection.connection.close();
    for (const connection of this.#active) connection.closeWhenIdle();
  }

  destroy(error: RpcErrorType): void {
    for (const connection of [...this.#active]) connection.destroy(error);
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
