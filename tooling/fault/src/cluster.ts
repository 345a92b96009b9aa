/**
 * Three server hosts and one client host on a Network: the servers run apps/echo's RPC starter on
 * 198.18.0.11–13:7000, the client host runs the load against all three. A server may sit behind
 * a delaying proxy (the client then dials the proxy, 198.18.0.1x:7001) or start under a
 * descriptor limit. `destroy()` stops every process and removes the namespaces.
 */
import { kClientOptions, kDeadlineSlackMs, kLoad } from './bounds';
import type { ResourceSample } from './host-ipc';
import { HostProcess } from './host-process';
import { clock, type LoadResult, sleep } from './load';
import { Network } from './network';

export const kServerNames = ['s1', 's2', 's3'] as const;
export type ServerName = (typeof kServerNames)[number];
const kPort = 7000;
const kProxyPort = 7001;

/** nft chains that refuse new connections to `port` with a reset. */
function refuseRules(port: number): string {
  return `chain input { type filter hook input priority 0; policy accept; iifname "eth0" tcp dport ${port} tcp flags syn reject with tcp reset; }`;
}

/** RLIMIT_NOFILE of a server run out of descriptors: small, so the ballast is small. */
const kExhaustNofile = 128;

export interface ClusterOptions {
  /** Servers the client reaches through a delaying proxy. */
  readonly proxied?: readonly ServerName[];
}

/** Per process: descriptors and RSS. */
export type ResourceSnapshot = Record<string, ResourceSample>;

export class Cluster {
  readonly network: Network;
  readonly servers = new Map<ServerName, HostProcess>();
  readonly proxies = new Map<ServerName, HostProcess>();
  readonly #options: ClusterOptions;
  #client: HostProcess | null = null;

  private constructor(network: Network, options: ClusterOptions) {
    this.network = network;
    this.#options = options;
  }

  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    const network = await Network.create([
      { name: 'c', id: 1 },
      ...kServerNames.map((name, i) => ({ name, id: 11 + i })),
    ]);
    const cluster = new Cluster(network, options);
    try {
      await Promise.all(kServerNames.map((name) => cluster.startServer(name)));
      for (const name of options.proxied ?? []) await cluster.#startProxy(name);
      const targets = kServerNames.map((name) => cluster.endpointOf(name));
      const client = new HostProcess({
        name: 'client',
        ns: network.host('c').ns,
        script: 'client-host',
        args: ['--targets', targets.join(',')],
      });
      cluster.#client = client;
      await client.ready;
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  get client(): HostProcess {
    if (this.#client === null) throw new Error('no client host');
    return this.#client;
  }

  /** The address the client dials for `name` (its proxy when it has one). */
  endpointOf(name: ServerName): string {
    const ip = this.network.host(name).ip;
    return this.#options.proxied?.includes(name) ? `${ip}:${kProxyPort}` : `${ip}:${kPort}`;
  }

  server(name: ServerName): HostProcess {
    const server = this.servers.get(name);
    if (server === undefined) throw new Error(`no server ${name}`);
    return server;
  }

  /**
   * Starts (or restarts) server `name`; resolves once it listens. `exhaust`: it then has only
   * that many descriptors free until `releaseDescriptors` (see server-host.ts).
   */
  async startServer(name: ServerName, exhaust?: number): Promise<HostProcess> {
    const host = this.network.host(name);
    const args = ['--name', name, '--listen', `${host.ip}:${kPort}`];
    if (exhaust !== undefined) args.push('--exhaust', String(exhaust));
    const server = new HostProcess({
      name,
      ns: host.ns,
      script: 'server-host',
      args,
      nofile: exhaust === undefined ? undefined : kExhaustNofile,
    });
    this.servers.set(name, server);
    if (exhaust === undefined) {
      await server.ready;
      return server;
    }
    // apps/echo's server accepts in its reactor thread as soon as it listens, before the main
    // thread can take the descriptors away (it needs room to start its threads): until it is
    // ready, its port refuses (a reset, as a server not yet listening does), so no client
    // connection gets in while descriptors are still free.
    await this.network.setRules(name, refuseRules(kPort));
    try {
      await server.ready;
    } finally {
      await this.network.clearRules(name);
    }
    return server;
  }

  /** Gives server `name` its descriptors back (after `startServer(name, exhaust)`). */
  async releaseDescriptors(name: ServerName): Promise<void> {
    await this.server(name).request('release');
  }

  async #startProxy(name: ServerName): Promise<void> {
    const host = this.network.host(name);
    const proxy = new HostProcess({
      name: `proxy-${name}`,
      ns: host.ns,
      script: 'proxy-host',
      args: ['--listen', `${host.ip}:${kProxyPort}`, '--upstream', `${host.ip}:${kPort}`],
    });
    this.proxies.set(name, proxy);
    await proxy.ready;
  }

  /** Sets the proxy's added delay, each direction. */
  async setDelay(name: ServerName, meanMs: number, jitterMs: number): Promise<void> {
    const proxy = this.proxies.get(name);
    if (proxy === undefined) throw new Error(`${name} has no proxy`);
    await proxy.request('delay', { meanMs, jitterMs });
  }

  async startLoad(workers: number = kLoad.workers, pauseMs: number = kLoad.pauseMs): Promise<void> {
    await this.client.request('start', { workers, pauseMs, timeout: kClientOptions.timeout });
  }

  async stopLoad(longestTimeout: number = kClientOptions.timeout): Promise<LoadResult> {
    return this.client.request<LoadResult>(
      'stop',
      { longestTimeout },
      longestTimeout + kDeadlineSlackMs + 10_000,
    );
  }

  /** Descriptors and RSS of the client and of every running server that answers in time. */
  async resources(): Promise<ResourceSnapshot> {
    const snapshot: ResourceSnapshot = {};
    const hosts: HostProcess[] = [this.client, ...this.servers.values()];
    await Promise.all(
      hosts.map(async (host) => {
        if (!host.running) return;
        try {
          snapshot[host.name] = await host.request<ResourceSample>('resources', undefined, 3000);
        } catch {
          // a stopped host does not answer
        }
      }),
    );
    return snapshot;
  }

  /** Waits until `name` served `count` more echo calls (traffic reached it), at most `timeoutMs`. */
  async waitForTraffic(name: ServerName, timeoutMs: number, count = 5): Promise<number> {
    const started = clock();
    const server = this.server(name);
    const first = await echoCount(server);
    while (clock() - started < timeoutMs) {
      if ((await echoCount(server)) >= first + count) return clock() - started;
      await sleep(50);
    }
    throw new Error(`no traffic reached ${name} within ${timeoutMs} ms`);
  }

  /** Stops every process and removes the namespaces. Idempotent; never throws. */
  async destroy(): Promise<void> {
    const hosts = [this.#client, ...this.proxies.values(), ...this.servers.values()];
    await Promise.all(hosts.map((host) => host?.stop(0).catch(() => {})));
    await this.network.destroy();
  }
}

async function echoCount(server: HostProcess): Promise<number> {
  const stats = await server.request<{ service: { echo: number } }>('stats', undefined, 2000);
  return stats.service.echo;
}
