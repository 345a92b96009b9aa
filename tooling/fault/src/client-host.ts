/**
 * The client host: `node client-host.js --targets a:p,b:p,c:p`, run inside the client's
 * namespace. One @netpoll/rpc client (settings: bounds.ts) under the load of load.ts, driven by
 * the harness: `start`, `sleeps`, `stop` (returns every call's record and the lost calls),
 * `stats`, `close`.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createClient } from '@netpoll/rpc';
import { kClientOptions, kDeadlineSlackMs } from './bounds';
import { announceReady, parseArgs, sampleResources, serveHarness } from './host-ipc';
import { LoadGenerator } from './load';

const args = parseArgs(process.argv.slice(2));
const targets = (args.targets ?? '').split(',').filter(Boolean);
const client = createClient(targets, kClientOptions);
const load = new LoadGenerator(client);
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

serveHarness({
  start: (body) => {
    const { workers, pauseMs, timeout } = body as Record<string, number>;
    loopDelay.reset();
    load.start(workers!, pauseMs!, timeout ?? kClientOptions.timeout);
    return true;
  },
  sleeps: async (body) => {
    const { count, ms, timeout, spacingMs } = body as Record<string, number>;
    await load.sleeps(count!, ms!, timeout!, spacingMs!);
    return true;
  },
  stop: async (body) => {
    const longest = (body as { longestTimeout?: number } | undefined)?.longestTimeout;
    const result = await load.stop((longest ?? kClientOptions.timeout) + kDeadlineSlackMs + 2000);
    return {
      ...result,
      loopDelay: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
    };
  },
  drain: () => load.drain(),
  stats: () => ({ client: client.stats(), resources: sampleResources() }),
  close: async () => {
    const started = performance.now();
    await client.close();
    return { closeMs: performance.now() - started };
  },
});
announceReady({ pid: process.pid });
