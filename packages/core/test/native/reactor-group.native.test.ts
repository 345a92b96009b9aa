/**
 * Multi-core serving: `new EventLoop(null, { reactors: N, handler })` runs N reactors, one per
 * worker thread, against real sockets. The fixture handler (test/fixtures/thread-echo-handler.js)
 * answers each frame with the id of the thread that ran it, so the tests see which reactor
 * served which connection.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createListener, EventLoop, getReactorStats, type Listener } from '../../src';
import { openFdCount } from '../helpers/fds';
import { FrameClient, patternPayload } from '../helpers/frame-client';
import {
  closeAfterTest,
  deferred,
  describeNative,
  destroyAfterTest,
  tempSocketPath,
} from '../helpers/native';

const kFixtures = join(__dirname, '..', 'fixtures');
const kHandler = join(kFixtures, 'thread-echo-handler.js');
const kNoticeHandler = join(kFixtures, 'shutdown-notice-handler.js');
const kLinux = process.platform === 'linux';

interface ReactorEvent {
  type: 'slow' | 'error' | 'spin';
  threadId: number;
  code?: string;
  message?: string;
  cause?: string;
}

/** Threads of this process (Linux); elsewhere the thread checks use the loop's own view. */
function threadCount(): number {
  return kLinux ? readdirSync('/proc/self/task').length : 0;
}

/** Threads of this process before any reactor started (set in beforeAll). */
let baselineThreads = 0;

/** Loops a failed test may leave running; shut down after each test (listeners are closed too). */
const loops: EventLoop[] = [];

function startLoop(listener: Listener, reactors = 3): { loop: EventLoop; served: Promise<void> } {
  const loop = new EventLoop(null, { reactors, handler: kHandler, framing: { lengthHeader: 4 } });
  loops.push(loop);
  const served = loop.serve(listener);
  served.catch(() => {});
  return { loop, served };
}

/**
 * Resolves once `predicate()` holds, checking every few ms for up to 10 s: the reactors update
 * the counts from other threads, so the number of this thread's loop turns says nothing.
 */
async function eventually(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition never became true: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/**
 * Every reactor thread has exited: the loop lists none, and the process is back to the threads it
 * had before the suite. shutdown() resolves only after each worker's 'exit' (Node emits it after
 * joining the thread); the OS count is polled because the runner process may briefly run helper
 * threads of its own, which is not what this checks.
 */
async function noThreadLeft(loop?: EventLoop): Promise<void> {
  if (loop !== undefined) expect(loop.reactorThreadIds).toEqual([]);
  if (kLinux) await eventually(() => threadCount() === baselineThreads, 'threads back to baseline');
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

describeNative('EventLoop with worker reactors', () => {
  const events: ReactorEvent[] = [];
  let waiting: { type: ReactorEvent['type']; resolve: (event: ReactorEvent) => void } | null = null;
  /** Resolves with the next event of `type` the fixture handler posts (from any reactor). */
  const nextEvent = (type: ReactorEvent['type']): Promise<ReactorEvent> =>
    new Promise((resolve) => {
      waiting = { type, resolve };
    });
  const channel = new BroadcastChannel('netpoll-test-reactor-events');
  const control = new BroadcastChannel('netpoll-test-reactor-control');

  beforeAll(async () => {
    expect(existsSync(join(__dirname, '..', '..', 'dist', 'reactor-worker.js'))).toBe(true);
    channel.onmessage = (message) => {
      const event = (message as MessageEvent).data as ReactorEvent;
      events.push(event);
      if (waiting?.type === event.type) waiting.resolve(event);
    };
    // Start what is started lazily once per process (this thread's reactor, libuv's thread pool),
    // so thread and fd counts compare like with like.
    getReactorStats();
    await readFile(__filename);
    baselineThreads = threadCount();
  });

  afterEach(async () => {
    await Promise.all(loops.splice(0).map((loop) => loop.shutdown({ timeout: 100 })));
  });

  afterAll(() => {
    channel.close();
    control.close();
  });

  it('spreads TCP connections over the reactors; every echo is byte-exact', async () => {
    const fdsBefore = openFdCount();
    const listener = closeAfterTest(createListener('tcp', '127.0.0.1:0', { reusePort: true }));
    const { loop, served } = startLoop(listener);
    await loop.whenAccepting(listener);
    const reactors = loop.reactorThreadIds;
    expect(reactors).toHaveLength(3);
    expect(new Set(reactors).size).toBe(3);
    if (kLinux) expect(threadCount()).toBeGreaterThanOrEqual(baselineThreads + 3);

    const clients = await Promise.all(
      Array.from({ length: 48 }, () => FrameClient.open(listener.port)),
    );
    await eventually(() => loop.connectionCount === 48, 'all 48 connections counted');
    const answers = await Promise.all(
      clients.map((client, i) => client.request(patternPayload(i, 1000 + i * 37))),
    );
    const threads = new Set<number>();
    answers.forEach((answer, i) => {
      expect(answer.payload.equals(patternPayload(i, 1000 + i * 37))).toBe(true);
      expect(reactors).toContain(answer.threadId);
      threads.add(answer.threadId);
    });
    // SO_REUSEPORT hashes the 48 four-tuples over 3 sockets (Linux); elsewhere the reactors race
    // on one accept queue.
    if (kLinux) expect(threads.size).toBeGreaterThanOrEqual(2);

    await Promise.all(clients.map((client) => client.close()));
    await eventually(() => loop.connectionCount === 0, 'connections finalized');
    await loop.shutdown({ timeout: 1000 });
    await served;
    expect(loop.reactorThreadIds).toEqual([]);
    await noThreadLeft();
    expect(listener.closed).toBe(true);
    expect(openFdCount()).toBe(fdsBefore);
  });

  it("reports every reactor's counters, and the reactors' own sockets take the listener's backlog", async () => {
    const listener = closeAfterTest(
      createListener('tcp', '127.0.0.1:0', { reusePort: true, backlog: 77 }),
    );
    expect(listener.backlog).toBe(77);
    const { loop, served } = startLoop(listener);
    expect(await loop.reactorStats()).toEqual([null, null, null]); // still starting
    await loop.whenAccepting(listener);
    if (kLinux) {
      // `ss` prints a listening socket's backlog as its Send-Q: the main thread's socket (which
      // reactor 0 adopts) and the two SO_REUSEPORT sockets of reactors 1 and 2.
      const lines = execFileSync('ss', ['-ltnH', `sport = :${listener.port}`], { encoding: 'utf8' })
        .trim()
        .split('\n');
      expect(lines.map((line) => line.trim().split(/\s+/)[2])).toEqual(['77', '77', '77']);
    }
    const clients = await Promise.all(
      Array.from({ length: 12 }, () => FrameClient.open(listener.port)),
    );
    for (const [i, client] of clients.entries()) {
      const answer = await client.request(patternPayload(i, 500));
      expect(answer.payload.equals(patternPayload(i, 500))).toBe(true);
    }
    const stats = await loop.reactorStats();
    expect(stats).toHaveLength(3);
    const live = stats.filter((entry) => entry !== null);
    expect(live).toHaveLength(3);
    const sum = (key: 'accepts' | 'bytesRead' | 'bytesWritten'): number =>
      live.reduce((total, entry) => total + entry[key], 0);
    expect(sum('accepts')).toBe(12);
    expect(sum('bytesRead')).toBe(12 * (4 + 500));
    expect(sum('bytesWritten')).toBe(12 * (8 + 500));
    await Promise.all(clients.map((client) => client.close()));
    await loop.shutdown({ timeout: 1000 });
    await served;
    expect(await loop.reactorStats()).toEqual([null, null, null]);
  });

  it('serves a Unix socket from all reactors through one shared accept queue', async () => {
    const fdsBefore = openFdCount();
    const path = tempSocketPath();
    const listener = closeAfterTest(createListener('unix', path));
    const { loop, served } = startLoop(listener);
    await loop.whenAccepting(listener);
    const reactors = loop.reactorThreadIds;
    const clients = await Promise.all(Array.from({ length: 24 }, () => FrameClient.open(path)));
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(
        clients.map((client, i) => client.request(patternPayload(i + round, 300 + i))),
      );
      answers.forEach((answer, i) => {
        expect(answer.payload.equals(patternPayload(i + round, 300 + i))).toBe(true);
        expect(reactors).toContain(answer.threadId);
      });
    }
    await Promise.all(clients.map((client) => client.close()));
    await loop.shutdown({ timeout: 1000 });
    await served;
    // Only the main thread's listener owns the path; the reactors' duplicates leave it alone
    // until then.
    expect(existsSync(path)).toBe(false);
    await noThreadLeft();
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('shuts down gracefully: stops accepting, closes idle connections, waits for handlers', async () => {
    const listener = closeAfterTest(createListener('tcp', '127.0.0.1:0', { reusePort: true }));
    const { loop, served } = startLoop(listener, 2);
    await loop.whenAccepting(listener);
    const idle = await FrameClient.open(listener.port);
    const busy = await FrameClient.open(listener.port);
    await eventually(() => loop.connectionCount === 2, 'both connections accepted');
    const started = nextEvent('slow');
    const answer = busy.request('slow');
    await started; // the handler is mid-await

    let finished = false;
    const stopped = loop.shutdown({ timeout: 20000 }).then((result) => {
      finished = true;
      return result;
    });
    await idle.closed; // the idle connection is closed by the shutdown
    await served; // the listener is closed at once
    expect(finished).toBe(false); // the handler still holds its connection
    expect(loop.connectionCount).toBe(1);

    control.postMessage('release');
    const reply = await answer;
    expect(reply.payload.toString()).toBe('slow');
    await busy.closed; // closed once its handler returned
    await expect(stopped).resolves.toEqual({ complete: true });
    expect(loop.connectionCount).toBe(0);
    expect(loop.reactorThreadIds).toEqual([]);
    await noThreadLeft();
  });

  it('reports a shutdown whose timeout closed a running handler as not complete', async () => {
    const listener = closeAfterTest(createListener('tcp', '127.0.0.1:0', { reusePort: true }));
    const { loop, served } = startLoop(listener, 2);
    await loop.whenAccepting(listener);
    const busy = await FrameClient.open(listener.port);
    const started = nextEvent('slow');
    void busy.request('slow').catch(() => {});
    await started; // the handler is mid-await, and is never released
    await expect(loop.shutdown({ timeout: 100 })).resolves.toEqual({ complete: false });
    await served;
    await busy.closed;
    expect(loop.reactorThreadIds).toEqual([]);
    await noThreadLeft();
  });

  it('stops accepting on every reactor before any drains: a peer told to go away cannot reconnect into a backlog', async () => {
    const listener = closeAfterTest(createListener('tcp', '127.0.0.1:0', { reusePort: true }));
    const loop = new EventLoop(null, {
      reactors: 2,
      handler: kNoticeHandler,
      framing: { lengthHeader: 4 },
    });
    loops.push(loop);
    loop.serve(listener).catch(() => {});
    await loop.whenAccepting(listener);
    // One connection on each reactor (the kernel's reuseport hash spreads them).
    const byThread = new Map<number, FrameClient>();
    for (let i = 0; i < 64 && byThread.size < 2; i++) {
      const client = await FrameClient.open(listener.port);
      const { threadId } = await client.request('whoami');
      if (!byThread.has(threadId)) byThread.set(threadId, client);
    }
    expect(byThread.size).toBe(2);
    const [busy, other] = [...byThread.values()] as [FrameClient, FrameClient];
    // The busy reactor's thread is blocked: the shutdown's messages wait there for 500 ms.
    const spinning = nextEvent('spin');
    const spun = busy.request('spin:500');
    await spinning;
    const notice = other.next();
    const stopped = loop.shutdown({ timeout: 5000 });
    // The other reactor drains and tells its peer to go away; the peer dials again at once. No
    // socket may still listen then: the new connection would wait in the busy reactor's backlog,
    // and that reactor's listener close would sweep it unread (EOF, its requests lost).
    expect((await notice).payload.toString()).toBe('shutdown');
    const redial = await new Promise<string>((resolve) => {
      const socket = destroyAfterTest(connect(listener.port, '127.0.0.1'));
      socket.once('connect', () => resolve('connected'));
      socket.once('error', (error: Error & { code?: string }) => resolve(error.code ?? 'error'));
    });
    expect(redial).toBe('ECONNREFUSED');
    expect((await spun).payload.toString()).toBe('spin:500');
    await stopped;
    await noThreadLeft(loop);
  });

  it('terminates a reactor thread stuck in a handler once the deadline and a grace period passed: shutdown settles', async () => {
    const listener = closeAfterTest(createListener('tcp', '127.0.0.1:0', { reusePort: true }));
    const loop = new EventLoop(null, {
      reactors: 2,
      handler: kNoticeHandler,
      framing: { lengthHeader: 4 },
    });
    loops.push(loop);
    loop.serve(listener).catch(() => {});
    await loop.whenAccepting(listener);
    const stuck = await FrameClient.open(listener.port);
    const spinning = nextEvent('spin');
    void stuck.request('spin:60000').catch(() => {});
    await spinning;
    const started = Date.now();
    await loop.shutdown({ timeout: 200 });
    // 200 ms of deadline and the 1 s grace, not the handler's 60 s.
    expect(Date.now() - started).toBeLessThan(5000);
    await stuck.closed; // its connection went with the terminated thread
    await noThreadLeft(loop);
  });

  it('replaces a crashed reactor and reports ERR_NETPOLL_REACTOR_CRASHED to onError', async () => {
    const listener = closeAfterTest(createListener('tcp', '127.0.0.1:0', { reusePort: true }));
    const { loop, served } = startLoop(listener);
    await loop.whenAccepting(listener);
    const original = loop.reactorThreadIds;
    // Find two connections served by different reactors.
    const clients: FrameClient[] = [];
    const owner = new Map<FrameClient, number>();
    while (new Set(owner.values()).size < 2 && clients.length < 64) {
      const client = await FrameClient.open(listener.port);
      clients.push(client);
      owner.set(client, (await client.request('who')).threadId);
    }
    const victim = clients[0]!;
    const survivor = clients.find((client) => owner.get(client) !== owner.get(victim))!;
    const reported = nextEvent('error');
    void victim.request('crash');
    await victim.closed; // the crashed reactor's connections are closed by its env cleanup
    const report = await reported;
    expect(report.code).toBe('ERR_NETPOLL_REACTOR_CRASHED');
    expect(report.message).toContain('fixture crash');
    expect(report.cause).toBe('fixture crash');

    // The other reactors never noticed, and a new reactor took the crashed one's place.
    const again = await survivor.request(patternPayload(7, 2048));
    expect(again.payload.equals(patternPayload(7, 2048))).toBe(true);
    const now = loop.reactorThreadIds;
    expect(now).toHaveLength(3);
    expect(now).not.toContain(owner.get(victim));
    expect(now).toContain(report.threadId);
    expect(original).not.toContain(report.threadId);
    const fresh = await Promise.all(
      Array.from({ length: 12 }, () => FrameClient.open(listener.port)),
    );
    for (const [i, client] of fresh.entries()) {
      const answer = await client.request(patternPayload(i, 64));
      expect(answer.payload.equals(patternPayload(i, 64))).toBe(true);
      expect(now).toContain(answer.threadId);
    }

    await Promise.all([...clients.slice(1), ...fresh].map((client) => client.close()));
    await loop.shutdown({ timeout: 1000 });
    await served;
    await noThreadLeft();
  });

  it('loads an ES module handler whose callbacks are its default export', async () => {
    const path = tempSocketPath();
    const listener = closeAfterTest(createListener('unix', path));
    const loop = new EventLoop(null, {
      reactors: 2,
      handler: join(kFixtures, 'default-export-handler.mjs'),
      framing: { lengthHeader: 4 },
    });
    loops.push(loop);
    const served = loop.serve(listener);
    await loop.whenAccepting(listener);
    const client = await FrameClient.open(path);
    const answer = await client.request(patternPayload(3, 5000));
    expect(answer.payload.equals(patternPayload(3, 5000))).toBe(true);
    expect(loop.reactorThreadIds).toContain(answer.threadId);
    await client.close();
    await loop.shutdown({ timeout: 1000 });
    await served;
  });

  it('stops replacing a reactor that crashes 6 times within a minute; serve() then rejects', async () => {
    const listener = closeAfterTest(createListener('tcp', '127.0.0.1:0', { reusePort: true }));
    const { loop, served } = startLoop(listener, 1);
    await loop.whenAccepting(listener);
    const logged: unknown[] = [];
    const consoleError = jest.spyOn(console, 'error').mockImplementation((...args) => {
      logged.push(args[1]);
    });
    try {
      const seen = new Set<number>();
      for (let crash = 1; crash <= 5; crash++) {
        const client = await FrameClient.open(listener.port);
        seen.add((await client.request('who')).threadId);
        const reported = nextEvent('error');
        void client.request('crash');
        const report = await reported; // sent by the replacement once it serves the listener
        expect(report.code).toBe('ERR_NETPOLL_REACTOR_CRASHED');
        expect(loop.reactorThreadIds).toEqual([report.threadId]);
      }
      expect(seen.size).toBe(5); // every crash was answered by a new thread
      const last = await FrameClient.open(listener.port);
      void last.request('crash');
      const error = await rejection(served);
      expect(error.code).toBe('ERR_NETPOLL_REACTOR_CRASHED');
      expect(error.message).toBe('reactor 0 crashed: 6 crashes within 60 s; not replaced');
      // No reactor is left to hand it to: it went to the default onError (console.error).
      expect((logged[0] as Error).message).toBe(error.message);
      expect(loop.reactorThreadIds).toEqual([]);
      // Nothing can serve another listener either.
      const other = closeAfterTest(createListener('tcp', '127.0.0.1:0', { reusePort: true }));
      expect((await rejection(loop.serve(other))).message).toBe(error.message);
      other.close();
      last.socket.destroy();
    } finally {
      consoleError.mockRestore();
    }
    expect(listener.closed).toBe(false);
    listener.close();
    await loop.shutdown({ timeout: 100 });
    await noThreadLeft(loop);
  });

  it('rejects serve() with ERR_NETPOLL_HANDLER_LOAD naming a missing handler module', async () => {
    const listener = closeAfterTest(createListener('tcp', '127.0.0.1:0', { reusePort: true }));
    const missing = join(kFixtures, 'no-such-handler.js');
    const loop = new EventLoop(null, { reactors: 2, handler: missing });
    loops.push(loop);
    const error = await rejection(loop.serve(listener));
    expect(error.code).toBe('ERR_NETPOLL_HANDLER_LOAD');
    expect(error.message).toContain(missing);
    expect(loop.reactorThreadIds).toEqual([]);
    await noThreadLeft();
    // The listener stays the caller's, still open, and can be served by another loop.
    expect(listener.closed).toBe(false);
    listener.close();
    await loop.shutdown();
  });

  it('rejects a handler module without onRequest, given as a file: URL', async () => {
    const listener = closeAfterTest(createListener('unix', tempSocketPath()));
    const handler = pathToFileURL(join(kFixtures, 'no-on-request-handler.js'));
    const loop = new EventLoop(null, { reactors: 2, handler });
    loops.push(loop);
    const error = await rejection(loop.serve(listener));
    expect(error.code).toBe('ERR_NETPOLL_HANDLER_LOAD');
    expect(error.message).toContain('no-on-request-handler.js does not export an onRequest');
    listener.close();
    await loop.shutdown();
    await noThreadLeft();
  });

  (kLinux ? it : it.skip)(
    'rejects a TCP listener created without reusePort with ERR_NETPOLL_REUSE_PORT_REQUIRED',
    async () => {
      const listener = closeAfterTest(createListener('tcp', '127.0.0.1:0'));
      const { loop, served } = startLoop(listener, 2);
      const error = await rejection(served);
      expect(error.code).toBe('ERR_NETPOLL_REUSE_PORT_REQUIRED');
      expect(error.message).toContain(listener.address);
      expect(listener.closed).toBe(false);
      listener.close();
      await loop.shutdown();
      await noThreadLeft();
    },
  );

  it('shutdown before serve() starts no thread and resolves', async () => {
    const loop = new EventLoop(null, { reactors: 4, handler: kHandler });
    loops.push(loop);
    const done = deferred<unknown>();
    void loop.shutdown().then(done.resolve);
    expect(await done.promise).toEqual({ complete: true }); // nothing to close
    expect(loop.reactorThreadIds).toEqual([]);
    expect(loop.connectionCount).toBe(0);
  });
});
