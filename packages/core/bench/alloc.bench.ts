/**
 * JS heap allocations per request on the server echo path (the handler of apps/echo under native
 * framing: `writeFrom(reader, reader.len())`, `flush()`), measured with V8's
 * sampling heap profiler (objects collected by minor and major GCs included) over N ping-pong
 * requests from the C load generator, plus the number of scavenges seen by a `gc` observer.
 * Prints bytes per request and the top allocation sites; it never asserts.
 * Knobs: BENCH_REQUESTS (default 200000), BENCH_CONNECTIONS (default 100), BENCH_SIZE (payload
 * bytes, default 1024), BENCH_PIPELINE (default 1), BENCH_INTERVAL (sampling bytes, default 64).
 */
import { Session } from 'node:inspector';
import { PerformanceObserver } from 'node:perf_hooks';
import { type Connection, createListener, EventLoop, getReactorStats } from '@netpoll/core';
import { ensureNativeTools, loadgenPath, runLoadgen } from './native-tools';

const requests = Number(process.env.BENCH_REQUESTS ?? 200000);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 100);
const size = Number(process.env.BENCH_SIZE ?? 1024);
const pipeline = Number(process.env.BENCH_PIPELINE ?? 1);
const interval = Number(process.env.BENCH_INTERVAL ?? 64);

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

function echoFrames(connection: Connection): void {
  const { reader, writer } = connection;
  writer.writeFrom(reader, reader.len());
  writer.flush();
}

function load(port: number, total: number): Promise<void> {
  return runLoadgen(port, { connections, total, pipeline, size, cpu: null });
}

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) =>
    session.post(method, params ?? {}, (error, result) =>
      error ? reject(error) : resolve(result as T),
    ),
  );
}

function collect(node: ProfileNode, sites: Map<string, number>): number {
  let total = node.selfSize;
  if (node.selfSize > 0) {
    const frame = node.callFrame;
    const file = frame.url.replace(/^.*\/(packages|node_modules)\//, '');
    const key = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
    sites.set(key, (sites.get(key) ?? 0) + node.selfSize);
  }
  for (const child of node.children) total += collect(child, sites);
  return total;
}

async function main(): Promise<void> {
  if (!ensureNativeTools()) {
    console.log(`the load generator ${loadgenPath} could not be built (Linux, cmake, g++)`);
    return;
  }
  const loop = new EventLoop(echoFrames, { framing: { lengthHeader: 4, maxFrameSize: 1 << 20 } });
  const listener = createListener('tcp', '127.0.0.1:0');
  void loop.serve(listener);
  await load(listener.port, Math.min(requests, 50000)); // warm-up: JIT, slabs, pools

  let scavenges = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if ((entry as { detail?: { kind?: number } }).detail?.kind === 1) scavenges++;
    }
  });
  const session = new Session();
  session.connect();
  await post(session, 'HeapProfiler.enable');
  const before = getReactorStats();
  observer.observe({ entryTypes: ['gc'] });
  await post(session, 'HeapProfiler.startSampling', {
    samplingInterval: interval,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  await load(listener.port, requests);
  const { profile } = await post<{ profile: { head: ProfileNode } }>(
    session,
    'HeapProfiler.stopSampling',
  );
  observer.disconnect();
  const after = getReactorStats();
  session.disconnect();

  const sites = new Map<string, number>();
  const total = collect(profile.head, sites);
  const served = after.records - before.records;
  console.log(
    `${requests} requests of ${size} B, ${connections} connections, pipeline ${pipeline}: ` +
      `${(total / requests).toFixed(1)} B allocated per request (sampled every ${interval} B), ` +
      `${scavenges} scavenges, ${(requests / Math.max(1, after.batches - before.batches)).toFixed(1)} requests per batch, ${served} records`,
  );
  const top = [...sites.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12);
  for (const [site, bytes] of top) {
    console.log(`  ${(bytes / requests).toFixed(2).padStart(8)} B/req  ${site}`);
  }
  await loop.shutdown({ timeout: 1000 });
}

void main();
