// The harness itself: hosts reachable only inside their namespaces, everything removed after,
// leftovers of a dead owner removed at the next start, host processes gone with the harness.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterTest } from '@netpoll/jest-config/cleanup';
import { sleep } from '../src/load';
import { ourNamespaces, removeLeftovers } from '../src/network';
import { runCommand } from '../src/run-command';
import { report, startCluster } from './helpers/fault-test';

/** Alive and not a zombie (an orphan's zombie waits for whoever reaps orphans here). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('the multi-host harness', () => {
  it('builds namespaces with only the 198.18.0.0/24 link route, and removes them all', async () => {
    const cluster = await startCluster();
    const prefix = cluster.network.prefix;
    expect(
      ourNamespaces()
        .filter((ns) => ns.startsWith(prefix))
        .sort(),
    ).toEqual(['c', 'hub', 's1', 's2', 's3'].map((name) => `${prefix}${name}`));
    for (const name of ['c', 's1', 's2', 's3']) {
      // No default route: nothing can leave the namespaces.
      expect((await cluster.network.routes(name)).trim()).toMatch(
        /^198\.18\.0\.0\/24 dev eth0 proto kernel scope link src 198\.18\.0\.\d+$/,
      );
    }
    // The root namespace has no address or route in the benchmarking range.
    expect(execFileSync('ip', ['route', 'show'], { encoding: 'utf8' })).not.toMatch(/198\.1[89]\./);
    expect(execFileSync('ip', ['addr', 'show'], { encoding: 'utf8' })).not.toMatch(/198\.1[89]\./);
    const pids = [cluster.client.pid, ...[...cluster.servers.values()].map((s) => s.pid)];
    await cluster.destroy();
    expect(ourNamespaces().filter((ns) => ns.startsWith(prefix))).toEqual([]);
    for (const pid of pids) expect(running(pid)).toBe(false);
  }, 30_000);

  it('fails a request to a host whose channel closed before its exit was seen', async () => {
    const cluster = await startCluster();
    afterTest(() => cluster.destroy());
    const host = cluster.server('s1');
    // As a host on its way out: the channel is gone, the exit not yet reported.
    host.child.disconnect();
    expect(host.running).toBe(true);
    await expect(host.request('resources', undefined, 5000)).rejects.toThrow(
      /^s1: resources not sent: .*channel closed/i,
    );
    // The resource sampler's catch covers it: the soak goes on.
    expect(Object.keys(await cluster.resources())).not.toContain('s1');
  }, 30_000);

  it("fails a command that stops reading its input with the command's own error", async () => {
    // As `ip netns exec NS nft -f -` failing before nft read its ruleset (no such namespace):
    // stdin closes while the write is still going — made certain here by more input than a pipe
    // holds and a command that lives on — and the write fails with EPIPE before the exit.
    const command = runCommand('sh', ['-c', 'exec 0<&-; echo refused >&2; sleep 0.5; exit 3'], {
      input: 'x'.repeat(4 << 20),
    });
    await expect(command).rejects.toThrow(/^sh -c .*: refused$/);
  });

  it('ends a host process that could not be started, so nothing waits for it', async () => {
    // In a process whose PATH has no `ip`: the spawn fails, and no 'exit' event follows.
    const script = `
      const { HostProcess } = require(${JSON.stringify(require.resolve('../dist/host-process.js'))});
      const host = new HostProcess({ name: 'nowhere', ns: 'npf-none', script: 'server-host' });
      const late = new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5000));
      (async () => {
        const ended = await Promise.race([host.exited, late]);
        const ready = await host.ready.then(() => 'ready', (error) => error.message);
        const request = await host.request('resources').then(() => 'answered', (error) => error.message);
        const stopped = await Promise.race([host.stop(), late]);
        process.stdout.write(JSON.stringify({ ended, running: host.running, ready, request, stopped }));
        process.exit(0);
      })();
    `;
    const output = execFileSync(process.execPath, ['-e', script], {
      env: { ...process.env, PATH: '/nonexistent' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    const result = JSON.parse(output);
    expect(result.ended).toEqual({ code: null, signal: null });
    expect(result.running).toBe(false);
    expect(result.ready).toMatch(
      /^nowhere exited \(\{"code":null,"signal":null\}\): nowhere: spawn ip ENOENT/,
    );
    expect(result.request).toMatch(/^nowhere exited/);
    expect(result.stopped).toEqual({ code: null, signal: null });
  }, 30_000);

  it('removes the namespaces and processes of an owner that is gone', async () => {
    // A namespace as a killed run leaves it: an owner pid that cannot exist, a process inside.
    const ns = 'npf-4194305-0-s1';
    execFileSync('ip', ['netns', 'add', ns]);
    const sleeper = execFileSync(
      'sh',
      ['-c', `ip netns exec ${ns} sleep 60 >/dev/null 2>&1 & echo $!`],
      { encoding: 'utf8' },
    );
    // Only once the sleeper is inside: `ip netns exec` enters the namespace after the shell
    // returned, and a process that enters after the clean-up's scan would survive it.
    let inside = false;
    for (let waited = 0; !inside && waited < 5000; waited += 10) {
      const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
      inside = pids.split('\n').includes(sleeper.trim());
      if (!inside) await sleep(10);
    }
    expect(inside).toBe(true);
    const removed = await removeLeftovers();
    expect(removed).toContain(ns);
    expect(ourNamespaces()).not.toContain(ns);
    // Killed by the clean-up; gone once the kernel has reaped it.
    for (let waited = 0; running(Number(sleeper)) && waited < 5000; waited += 10) await sleep(10);
    expect(running(Number(sleeper))).toBe(false);
  });

  it('has the reaper remove everything when the owning process is SIGKILLed', async () => {
    // The owner is a separate node process that builds a cluster and is then killed.
    const script = `
      const { Cluster } = require(${JSON.stringify(require.resolve('../dist/cluster.js'))});
      Cluster.start().then((c) => {
        const pids = [c.client.pid, ...[...c.servers.values()].map((s) => s.pid)];
        process.stdout.write(JSON.stringify({ prefix: c.network.prefix, pids }) + '\\n');
      });
    `;
    const owner = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    // Should the test fail before its SIGKILL, the owner goes anyway (and the reaper with it).
    afterTest(() => owner.kill('SIGKILL'));
    const { prefix, pids } = await new Promise<{ prefix: string; pids: number[] }>(
      (resolve, reject) => {
        owner.stdout.setEncoding('utf8');
        owner.stdout.once('data', (text: string) => resolve(JSON.parse(text)));
        owner.once('exit', () => reject(new Error('owner exited before its cluster was up')));
      },
    );
    expect(ourNamespaces().filter((ns) => ns.startsWith(prefix))).toHaveLength(5);
    owner.kill('SIGKILL');
    const started = Date.now();
    while (ourNamespaces().some((ns) => ns.startsWith(prefix)) && Date.now() - started < 10_000) {
      await sleep(100);
    }
    report(`reaper removed ${prefix}* ${Date.now() - started} ms after the owner's SIGKILL`);
    expect(ourNamespaces().filter((ns) => ns.startsWith(prefix))).toEqual([]);
    // Killed with their namespaces; gone once the kernel has reaped them.
    for (let waited = 0; pids.some(running) && waited < 5000; waited += 10) await sleep(10);
    for (const pid of pids) expect(running(pid)).toBe(false);
  }, 30_000);
});
