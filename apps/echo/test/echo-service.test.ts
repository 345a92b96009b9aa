/**
 * The service's handlers on their own (a fake pool that runs the hash task in-process, stub call
 * contexts whose signal the test aborts), then the whole service in-process behind a real
 * `@netpoll/rpc` server and the typed client.
 */
import { afterTest } from '@netpoll/jest-config/cleanup';
import { type CallContext, createServer, RpcStatus, type TaskPool } from '@netpoll/rpc';
import { createEchoClient } from '../src/client/echo-client';
import { abortStatus, createEchoService } from '../src/service/echo-service';
import * as tasks from '../src/service/hash-task';

/** Runs tasks in this thread, recording what it was asked. */
function fakePool() {
  const runs: Array<{ value: unknown; name?: string; signal?: AbortSignal }> = [];
  const pool: TaskPool = {
    async run(value, options) {
      runs.push({ value, ...options });
      return (tasks as Record<string, (value: unknown) => unknown>)[options.name!]!(value);
    },
  };
  return { pool, runs };
}

/** The parts of a CallContext the handlers use. */
function context(signal = new AbortController().signal): CallContext {
  return { signal, method: 'test', timeRemaining: () => Number.POSITIVE_INFINITY } as never;
}

async function rejection(promise: unknown): Promise<RpcStatus> {
  try {
    await promise;
  } catch (error) {
    return error as RpcStatus;
  }
  throw new Error('expected a rejection');
}

describe('the Echo service handlers', () => {
  it('echo answers the message', () => {
    const service = createEchoService(fakePool());
    expect(service.echo({ message: 'hi' }, context())).toEqual({ message: 'hi' });
  });

  it('hash runs the pool task "hash" with the checked request and the call signal', async () => {
    const { pool, runs } = fakePool();
    const service = createEchoService({ pool });
    const call = context();
    expect(await service.hash({ data: 'abc' }, call)).toEqual({
      digest: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      rounds: 1,
    });
    expect(runs).toEqual([
      { value: { data: 'abc', rounds: 1 }, name: 'hash', signal: call.signal },
    ]);
  });

  it('hash refuses a bad request before the pool sees it', async () => {
    const { pool, runs } = fakePool();
    const service = createEchoService({ pool });
    expect(() => service.hash({ data: 'x', rounds: -1 }, context())).toThrow(RpcStatus);
    expect(runs).toEqual([]);
  });

  it('sleep waits the time asked and says how long it slept', async () => {
    const service = createEchoService(fakePool());
    const { slept } = await service.sleep({ ms: 30 }, context());
    expect(slept).toBeGreaterThanOrEqual(29);
    expect(slept).toBeLessThan(3000); // the time asked, give or take a busy machine's stalls
  });

  it.each(['DEADLINE_EXCEEDED', 'CANCELLED', 'CONNECTION_CLOSED'])(
    'sleep returns early with %s when its signal aborts for that reason',
    async (code) => {
      const service = createEchoService(fakePool());
      const controller = new AbortController();
      const started = performance.now();
      const sleeping = service.sleep({ ms: 10_000 }, context(controller.signal));
      setTimeout(() => controller.abort(Object.assign(new Error(`because ${code}`), { code })), 20);
      const error = await rejection(sleeping);
      expect(error).toBeInstanceOf(RpcStatus);
      expect([error.status, error.message]).toEqual([code, `because ${code}`]);
      // Far before the 10 s it was asked to sleep (a slack a busy machine's stalls fit in).
      expect(performance.now() - started).toBeLessThan(3000);
    },
  );

  it('abortStatus falls back to CANCELLED for a reason without a code', () => {
    const controller = new AbortController();
    controller.abort();
    expect(abortStatus(controller.signal).status).toBe('CANCELLED');
  });

  it('health answers SERVING with its uptime and pid', () => {
    const service = createEchoService({ ...fakePool(), startedAt: performance.now() - 5000 });
    expect(service.health({}, context())).toEqual({
      status: 'SERVING',
      uptime: 5,
      pid: process.pid,
    });
  });
});

describe('the Echo service behind an in-process rpc server', () => {
  it('answers the typed client, and refusals reach it as coded, unprocessed errors', async () => {
    const server = createServer(createEchoService(fakePool()), { serializer: 'json' });
    afterTest(() => server.close({ timeout: 500 }));
    await server.listen('127.0.0.1:0');
    const client = createEchoClient(server.address, { connections: 1, timeout: 2000 });
    afterTest(() => client.destroy());

    expect(await client.echo({ message: 'through the stack' })).toEqual({
      message: 'through the stack',
    });
    expect((await client.hash({ data: 'abc', rounds: 2 })).digest).toBe(
      '4f8b42c22dd3729b519ba6f68d2da7cc5b2d606d05daed5ad5128cc03e6c6358',
    );
    expect(await client.health()).toMatchObject({ status: 'SERVING' });
    const invalid = await rejection(client.sleep({ ms: 1.5 }));
    expect(invalid).toMatchObject({
      code: 'ERR_NETPOLL_RPC_REMOTE',
      remoteCode: 'INVALID_ARGUMENT',
      remoteMessage: 'sleep: ms must be an integer from 0 to 60000 (received 1.5)',
      processed: false,
    });
    const stats = await server.stats();
    expect(stats.calls).toMatchObject({
      started: 4,
      succeeded: 3,
      failed: 1,
      errors: { INVALID_ARGUMENT: 1 },
    });
  });
});
