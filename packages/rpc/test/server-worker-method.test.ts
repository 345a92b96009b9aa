/**
 * workerMethod(pool, task) with a real @netpoll/gopool WorkerPool (test/fixtures/worker-tasks.js):
 * the task runs in a pool thread and its result is the response; when the client cancels or the
 * deadline passes, the call's signal aborts the task inside its thread.
 */
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { WorkerPool } from '@netpoll/gopool';
import { Kind, workerMethod } from '../src';
import { afterTest, startServer, thrown, until } from './helpers/server';
import { WireClient } from './helpers/wire-client';

interface TaskEvent {
  type: 'started' | 'aborted';
  id: string;
  threadId: number;
  reason?: string;
}

function startPool(): WorkerPool {
  const pool = new WorkerPool({
    filename: join(__dirname, 'fixtures', 'worker-tasks.js'),
    minThreads: 1,
    maxThreads: 2,
  });
  afterTest(() => pool.destroy());
  return pool;
}

/** Task events the pool threads post, collected until the end of the test. */
function watchTasks(): TaskEvent[] {
  const events: TaskEvent[] = [];
  const channel = new BroadcastChannel('netpoll-rpc-test-worker-tasks');
  channel.onmessage = (message) => events.push((message as MessageEvent).data as TaskEvent);
  afterTest(() => channel.close());
  return events;
}

/** Waits (polling: the events come from other threads) for a task event. */
async function taskEvent(events: TaskEvent[], type: TaskEvent['type'], id: string) {
  const limit = Date.now() + 10_000;
  for (;;) {
    const found = events.find((event) => event.type === type && event.id === id);
    if (found !== undefined) return found;
    if (Date.now() > limit) throw new Error(`no ${type} event for task ${id}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('workerMethod', () => {
  it('answers with the result of the task computed in a pool thread', async () => {
    const pool = startPool();
    const server = await startServer({ hash: workerMethod(pool, 'hash') });
    const client = await WireClient.connect(server.address);
    const payloads = Array.from({ length: 20 }, (_, i) => randomBytes(i * 997));
    const replies = await Promise.all(payloads.map((payload) => client.call('hash', payload)));
    replies.forEach((reply, i) => {
      expect(reply.kind).toBe(Kind.RESPONSE);
      const expected = createHash('sha256').update(payloads[i]!).digest();
      expect(reply.payload.equals(expected)).toBe(true);
    });
    expect(pool.stats().completed).toBe(20);
  });

  it('aborts the task in its thread when the client cancels; no reply is sent', async () => {
    const events = watchTasks();
    const pool = startPool();
    const server = await startServer({ wait: workerMethod(pool, 'waitForAbort') });
    const client = await WireClient.connect(server.address);
    const seq = client.request('wait', 'cancel-me');
    const started = await taskEvent(events, 'started', 'cancel-me');
    expect(started.threadId).not.toBe(threadId);
    client.send({ kind: Kind.CANCEL, seq, payload: Buffer.alloc(0) });
    const aborted = await taskEvent(events, 'aborted', 'cancel-me');
    expect(aborted.reason).toBe('AbortError');
    await until(() => pool.stats().inFlight === 0, 'the task left the pool');
    client.send({ kind: Kind.PING, seq: 1, payload: Buffer.alloc(0) });
    await client.waitFor((message) => message.kind === Kind.PONG, 'the pong');
    expect(client.replies().size).toBe(0);
  });

  it('aborts the task in its thread when the deadline passes (the handler ran: INTERNAL)', async () => {
    const events = watchTasks();
    const pool = startPool();
    const server = await startServer({
      hash: workerMethod(pool, 'hash'),
      wait: workerMethod(pool, 'waitForAbort'),
    });
    const client = await WireClient.connect(server.address);
    // A task whose deadline passes before a thread takes it never runs: the thread is up and
    // the deadline far enough for the task to start first, then to be aborted in its thread.
    expect((await client.call('hash', Buffer.from('warm'))).kind).toBe(Kind.RESPONSE);
    const reply = client.call('wait', 'too-slow', { timeout: 1000 });
    await taskEvent(events, 'started', 'too-slow');
    const aborted = await taskEvent(events, 'aborted', 'too-slow');
    expect(aborted.reason).toBe('AbortError');
    expect([(await reply).kind, (await reply).code]).toEqual([Kind.ERROR, 'INTERNAL']);
  });

  it('refuses a pool without run() and an empty task name', () => {
    const noPool = thrown(() => workerMethod({} as never, 'hash'));
    expect([noPool.code, noPool.message]).toEqual([
      'ERR_NETPOLL_INVALID_ARG',
      'pool must be a WorkerPool (an object with run()) (received an object)',
    ]);
    const noTask = thrown(() => workerMethod({ run: async () => null }, ''));
    expect([noTask.code, noTask.message]).toEqual([
      'ERR_NETPOLL_INVALID_ARG',
      'task must be the name of a task the pool exports (received "")',
    ]);
  });
});
