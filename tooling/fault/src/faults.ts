/**
 * The faults, each as inject/heal on one server host of a Cluster. `heal` resolves once the
 * host is usable again (a restarted server listens), so the recovery bound is measured from a
 * moment the client could reach it.
 */
import type { Cluster, ServerName } from './cluster';

export interface Fault {
  readonly name: string;
  /** Traffic must leave the host within kMoveBoundMs (false for a degraded, reachable host). */
  readonly moves: boolean;
  /** Calls may fail (false: a graceful fault must fail none). */
  readonly mayFail: boolean;
  /** Needs the host behind the delaying proxy. */
  readonly proxied?: boolean;
  inject(cluster: Cluster, host: ServerName): Promise<void>;
  heal(cluster: Cluster, host: ServerName): Promise<void>;
}

/** Drops `percent` % of the host's TCP packets, each direction, at random (TCP retransmits). */
function lossRules(percent: number): string {
  // On eth0 only: the host's network, not its loopback (a proxy in front of its server).
  const rule = `meta l4proto tcp numgen random mod 100 < ${percent} drop`;
  return [
    `chain input { type filter hook input priority 0; policy accept; iifname "eth0" ${rule}; }`,
    `chain output { type filter hook output priority 0; policy accept; oifname "eth0" ${rule}; }`,
  ].join('\n');
}

/** Drops everything the host sends or receives on its network, silently (no reset, no ICMP). */
const kBlackholeRules = [
  'chain input { type filter hook input priority 0; policy accept; iifname "eth0" drop; }',
  'chain output { type filter hook output priority 0; policy accept; oifname "eth0" drop; }',
].join('\n');

export const kill: Fault = {
  name: 'SIGKILL + restart',
  moves: true,
  mayFail: true,
  inject: async (cluster, host) => {
    await cluster.server(host).stop(0, 'SIGKILL');
  },
  heal: async (cluster, host) => {
    await cluster.startServer(host);
  },
};

export const stop: Fault = {
  name: 'SIGSTOP + SIGCONT',
  moves: true,
  mayFail: true,
  inject: async (cluster, host) => cluster.server(host).signal('SIGSTOP'),
  heal: async (cluster, host) => cluster.server(host).signal('SIGCONT'),
};

export const partition: Fault = {
  name: 'link down + up',
  moves: true,
  mayFail: true,
  inject: (cluster, host) => cluster.network.setLink(host, false),
  heal: (cluster, host) => cluster.network.setLink(host, true),
};

export const blackhole: Fault = {
  name: 'blackhole (nft drop)',
  moves: true,
  mayFail: true,
  inject: (cluster, host) => cluster.network.setRules(host, kBlackholeRules),
  heal: (cluster, host) => cluster.network.clearRules(host),
};

export function lossy(percent: number): Fault {
  return {
    name: `${percent} % loss (nft numgen)`,
    moves: false,
    mayFail: true,
    inject: (cluster, host) => cluster.network.setRules(host, lossRules(percent)),
    heal: (cluster, host) => cluster.network.clearRules(host),
  };
}

/** 25 ± 5 ms each way through the proxy: 50 ± 10 ms added to every round trip. */
export const slow: Fault = {
  name: 'slow (+50 ms RTT, jitter)',
  moves: false,
  mayFail: false,
  proxied: true,
  inject: (cluster, host) => cluster.setDelay(host, 25, 5),
  heal: (cluster, host) => cluster.setDelay(host, 0, 0),
};

/** SIGTERM: graceful close with GOAWAY; then restarted. No call may fail. */
export const gracefulRestart: Fault = {
  name: 'SIGTERM (graceful) + restart',
  moves: true,
  mayFail: false,
  inject: async (cluster, host) => {
    const status = await cluster.server(host).stop(10_000, 'SIGTERM');
    if (status.code !== 0)
      throw new Error(`${host} did not close gracefully: ${JSON.stringify(status)}`);
  },
  heal: async (cluster, host) => {
    await cluster.startServer(host);
  },
};
