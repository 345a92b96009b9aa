/**
 * Hosts on one machine: a Linux network namespace per host, each joined by a veth pair to a
 * bridge in a namespace of its own (the switch), addressed from the benchmarking range
 * 198.18.0.0/15. No namespace has a default route and the root namespace gets no address or
 * route to them, so traffic stays inside. Names carry a prefix with the owner's pid,
 * `npf-<pid>-<n>-`, so leftovers of a killed run are recognised (owner gone) and removed, by the
 * next run or by the reaper (reaper.ts) that watches the owner.
 */
import { spawn } from 'node:child_process';
import { distScript } from './dist-script';
import { runCommand, runCommandSync } from './run-command';

const kPrefix = 'npf-';
const kSubnet = '198.18.0';
let created = 0;

/** One host: its namespace, address, and the name of its port on the bridge. */
export interface Host {
  readonly name: string;
  readonly ns: string;
  readonly ip: string;
  readonly bridgePort: string;
}

export class Network {
  readonly prefix: string;
  readonly hosts = new Map<string, Host>();
  readonly #hub: string;
  #destroyed = false;

  private constructor(prefix: string) {
    this.prefix = prefix;
    this.#hub = `${prefix}hub`;
  }

  /**
   * Creates the switch and one host per name, `hostIds[i]` getting 198.18.0.`hostIds[i]`.
   * Cleans up leftovers of dead owners first. On a failure half-way, removes what it made.
   */
  static async create(hosts: ReadonlyArray<{ name: string; id: number }>): Promise<Network> {
    await removeLeftovers();
    const network = new Network(`${kPrefix}${process.pid}-${created++}-`);
    startReaper(network.prefix);
    try {
      await network.#build(hosts);
    } catch (error) {
      await network.destroy();
      throw error;
    }
    return network;
  }

  async #build(hosts: ReadonlyArray<{ name: string; id: number }>): Promise<void> {
    const hub = this.#hub;
    await ip(['netns', 'add', hub]);
    await ip(['-n', hub, 'link', 'add', 'br0', 'type', 'bridge']);
    await ip(['-n', hub, 'link', 'set', 'br0', 'up']);
    for (const { name, id } of hosts) {
      const host: Host = {
        name,
        ns: `${this.prefix}${name}`,
        ip: `${kSubnet}.${id}`,
        bridgePort: `p-${name}`,
      };
      await ip(['netns', 'add', host.ns]);
      this.hosts.set(name, host);
      await ip(
        ['-n', hub, 'link', 'add', host.bridgePort, 'type', 'veth'].concat([
          'peer',
          'name',
          'eth0',
          'netns',
          host.ns,
        ]),
      );
      await ip(['-n', hub, 'link', 'set', host.bridgePort, 'master', 'br0', 'up']);
      await ip(['-n', host.ns, 'addr', 'add', `${host.ip}/24`, 'dev', 'eth0']);
      await ip(['-n', host.ns, 'link', 'set', 'eth0', 'up']);
      await ip(['-n', host.ns, 'link', 'set', 'lo', 'up']);
    }
  }

  host(name: string): Host {
    const host = this.hosts.get(name);
    if (host === undefined) throw new Error(`no host ${name}`);
    return host;
  }

  /** Pulls (false) or plugs back (true) the host's cable at the switch: no reset, silence. */
  async setLink(name: string, up: boolean): Promise<void> {
    await ip(['-n', this.#hub, 'link', 'set', this.host(name).bridgePort, up ? 'up' : 'down']);
  }

  /** Replaces the host's nftables rules (table `inet fault`) with `chains` (nft syntax). */
  async setRules(name: string, chains: string): Promise<void> {
    const ns = this.host(name).ns;
    await this.clearRules(name);
    const ruleset = `table inet fault {\n${chains}\n}\n`;
    await runCommand('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: ruleset });
  }

  /** Removes the host's fault rules, if any. */
  async clearRules(name: string): Promise<void> {
    const ns = this.host(name).ns;
    await runCommand('ip', ['netns', 'exec', ns, 'nft', 'delete', 'table', 'inet', 'fault']).catch(
      () => {},
    );
  }

  /** The routes of a host's namespace (for the isolation check). */
  async routes(name: string): Promise<string> {
    return ip(['-n', this.host(name).ns, 'route', 'show']);
  }

  /** Kills every process left in the namespaces and removes them. Idempotent. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    removePrefix(this.prefix);
  }
}

function ip(args: string[]): Promise<string> {
  return runCommand('ip', args);
}

/** Namespaces named with our prefix. */
export function ourNamespaces(): string[] {
  const out = runCommandSync('ip', ['netns', 'list']);
  if (out instanceof Error) return [];
  return out
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(kPrefix));
}

/** SIGKILLs the processes in every namespace with `prefix`, then removes the namespaces. */
export function removePrefix(prefix: string): string[] {
  const names = ourNamespaces().filter((name) => name.startsWith(prefix));
  for (const ns of names) {
    const pids = runCommandSync('ip', ['netns', 'pids', ns]);
    if (pids instanceof Error) continue;
    for (const pid of pids.split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
  for (const ns of names) runCommandSync('ip', ['netns', 'del', ns]);
  return names;
}

/** Removes the namespaces of owners that no longer run (a killed earlier run). */
export async function removeLeftovers(): Promise<string[]> {
  const owners = new Set<string>();
  for (const ns of ourNamespaces()) {
    const owner = ns.slice(kPrefix.length).split('-')[0] ?? '';
    if (!isAlive(Number(owner))) owners.add(owner);
  }
  const removed: string[] = [];
  for (const owner of owners) removed.push(...removePrefix(`${kPrefix}${owner}-`));
  return removed;
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A detached process that removes `prefix`'s namespaces (and what runs in them) once this
 * process is gone, however it ended: SIGKILL or a CI time limit leave no afterAll to run.
 */
function startReaper(prefix: string): void {
  const child = spawn(process.execPath, [distScript('reaper'), String(process.pid), prefix], {
    detached: true,
    stdio: 'ignore',
  });
  // A spawn that fails (EAGAIN, ENOMEM on a loaded machine) is an 'error' event: unheard, it
  // would throw in the harness. Without the reaper only a killed run's leftovers stay, for the
  // next run's removeLeftovers.
  child.on('error', (error) => {
    process.stderr.write(`fault suite: the reaper of ${prefix}* did not start: ${error.message}\n`);
  });
  child.unref();
}
