/**
 * The built RPC server as a real process, called through the typed client: every method, the
 * operations port (`/ready`, `/live`, `/metrics` with the values known calls must produce), and a
 * graceful shutdown under load in which no call is lost — each call either succeeded or failed
 * with a coded error saying the server never ran it, and the server's own tally of calls served
 * equals the client's count of successes.
 */
import { afterTest } from '@netpoll/jest-config/cleanup';
import { createEchoClient, type EchoClient } from '../src/client/echo-client';
import { runCli } from './helpers/run-cli';
import {
  cleanEnv,
  httpGet,
  kServerCli,
  sample,
  startServerProcess,
  sum,
} from './helpers/server-process';

function client(address: string, connections = 1): EchoClient {
  const echo = createEchoClient(address, { connections, timeout: 5000 });
  afterTest(() => echo.destroy());
  return echo;
}

async function rejection(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Record<string, unknown>;
  }
  throw new Error('expected the call to fail');
}

describe('the Echo RPC server process', () => {
  it('answers every method, and says ready on /ready and in its log', async () => {
    const server = await startServerProcess();
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await httpGet(server.metricsAddress, '/ready')).toEqual({
      status: 200,
      body: 'ready\n',
    });
    expect(await httpGet(server.metricsAddress, '/live')).toEqual({ status: 200, body: 'live\n' });
    expect((await httpGet(server.metricsAddress, '/nope')).status).toBe(404);

    const echo = client(server.address);
    expect(await echo.echo({ message: 'hello, netpoll' })).toEqual({ message: 'hello, netpoll' });
    // SHA-256("abc"), then SHA-256 of that digest's bytes.
    expect(await echo.hash({ data: 'abc' })).toEqual({
      digest: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      rounds: 1,
    });
    expect(await echo.hash({ data: 'abc', rounds: 2 })).toEqual({
      digest: '4f8b42c22dd3729b519ba6f68d2da7cc5b2d606d05daed5ad5128cc03e6c6358',
      rounds: 2,
    });
    expect((await echo.sleep({ ms: 20 })).slept).toBeGreaterThanOrEqual(19);
    expect(await echo.health()).toEqual({
      status: 'SERVING',
      uptime: expect.any(Number),
      pid: server.child.pid,
    });

    const invalid = await rejection(echo.sleep({ ms: -1 }));
    expect(invalid).toMatchObject({
      code: 'ERR_NETPOLL_RPC_REMOTE',
      remoteCode: 'INVALID_ARGUMENT',
      processed: false,
    });
    expect(invalid.remoteMessage).toBe(
      'sleep: ms must be an integer from 0 to 60000 (received -1)',
    );

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('sleep stops early when the client times out: the handler ends on its signal, not after 10 s', async () => {
    const server = await startServerProcess();
    const echo = client(server.address);
    // Dialed, and the server's request path run once: the 200 ms are then the handler's.
    await echo.health();
    const started = performance.now();
    const timedOut = await rejection(echo.sleep({ ms: 10_000 }, { timeout: 200 }));
    expect(timedOut.code).toBe('ERR_NETPOLL_RPC_TIMEOUT');
    expect(performance.now() - started).toBeLessThan(5000);
    // At its deadline the client sends CANCEL; the server's own deadline (arrival + 200 ms)
    // comes a little later. Whichever aborts the signal first is the code the handler answers.
    const ended = (text: string) =>
      (sample(text, 'rpc_server_calls_total', { method: 'sleep', code: 'CANCELLED' }) ?? 0) +
      (sample(text, 'rpc_server_calls_total', { method: 'sleep', code: 'DEADLINE_EXCEEDED' }) ?? 0);
    const metrics = await eventuallyMetrics(server.metricsAddress, (text) => ended(text) === 1);
    expect(sample(metrics, 'rpc_server_calls_in_flight')).toBe(0);
    const seconds = sample(metrics, 'rpc_server_call_duration_seconds_sum', { method: 'sleep' })!;
    expect(seconds).toBeGreaterThan(0.15);
    expect(seconds).toBeLessThan(5);
  });

  it('sleep stops when the caller aborts: the server answers CANCELLED at once', async () => {
    const server = await startServerProcess();
    const echo = client(server.address);
    const abort = new AbortController();
    const call = echo.sleep({ ms: 10_000 }, { signal: abort.signal });
    await eventuallyMetrics(
      server.metricsAddress,
      (text) => sample(text, 'rpc_server_calls_in_flight') === 1,
    );
    abort.abort();
    expect(await rejection(call)).toMatchObject({
      code: 'ERR_NETPOLL_RPC_CANCELED',
      name: 'AbortError',
    });
    const metrics = await eventuallyMetrics(
      server.metricsAddress,
      (text) =>
        sample(text, 'rpc_server_calls_total', { method: 'sleep', code: 'CANCELLED' }) === 1,
    );
    expect(
      sample(metrics, 'rpc_server_call_duration_seconds_sum', { method: 'sleep' }),
    ).toBeLessThan(5);
  });

  it('serves /metrics with the values known calls produce, summed over 2 reactors', async () => {
    const server = await startServerProcess(['--reactors', '2']);
    // 8 connections: the kernel spreads them over both reactors.
    const echo = client(server.address, 8);
    await Promise.all(Array.from({ length: 24 }, (_, i) => echo.echo({ message: `m${i}` })));
    await echo.hash({ data: 'x', rounds: 10 });
    await echo.hash({ data: 'y' });
    await echo.health();
    await rejection(echo.sleep({ ms: 100_000 })); // INVALID_ARGUMENT: over kMaxSleepMs
    await rejection(echo.call('nope' as 'echo', { message: '' })); // UNIMPLEMENTED: refused
    // Each reactor answers /metrics on its own turn (one that is late is left out of that
    // scrape), and a connection that carried no call may still be in its reactor's accept queue:
    // these counts only grow, so read until both reactors show all 8 connections.
    const metrics = await eventuallyMetrics(
      server.metricsAddress,
      (text) =>
        sample(text, 'rpc_server_connections') === 8 &&
        (text.match(/^netpoll_reactor_accepts_total\{reactor="\d+"\} \d+$/gm)?.length ?? 0) === 2,
    );

    expect(sample(metrics, 'rpc_server_calls_total', { method: 'echo', code: 'OK' })).toBe(24);
    expect(sample(metrics, 'rpc_server_calls_total', { method: 'hash', code: 'OK' })).toBe(2);
    expect(sample(metrics, 'rpc_server_calls_total', { method: 'health', code: 'OK' })).toBe(1);
    expect(
      sample(metrics, 'rpc_server_calls_total', { method: 'sleep', code: 'INVALID_ARGUMENT' }),
    ).toBe(1);
    expect(sum(metrics, 'rpc_server_calls_total')).toBe(28); // the refused call never started
    expect(sample(metrics, 'rpc_server_errors_total', { code: 'INVALID_ARGUMENT' })).toBe(1);
    expect(sample(metrics, 'rpc_server_errors_total', { code: 'UNIMPLEMENTED' })).toBe(1);
    expect(sample(metrics, 'rpc_server_call_duration_seconds_count', { method: 'echo' })).toBe(24);
    expect(
      sample(metrics, 'rpc_server_call_duration_seconds_bucket', { method: 'echo', le: '+Inf' }),
    ).toBe(24);
    expect(sample(metrics, 'rpc_server_call_duration_seconds_count', { method: 'hash' })).toBe(2);
    expect(sample(metrics, 'rpc_server_calls_in_flight')).toBe(0);
    expect(sample(metrics, 'rpc_server_connections')).toBe(8);
    expect(sample(metrics, 'netpoll_connections_opened_total')).toBe(8);
    // core's reactor counters, one series per reactor thread, summed by the test.
    expect(sum(metrics, 'netpoll_reactor_accepts_total')).toBe(8);
    expect(metrics.match(/^netpoll_reactor_accepts_total\{reactor="\d+"\} \d+$/gm)).toHaveLength(2);
    expect(sum(metrics, 'netpoll_reactor_read_bytes_total')).toBeGreaterThan(0);
    expect(sample(metrics, 'process_cpu_seconds_total')).toBeGreaterThan(0);

    echo.destroy();
    // The reactors count closes as they happen; server.stats() reads core's shared counts.
    await eventuallyMetrics(
      server.metricsAddress,
      (text) =>
        sample(text, 'netpoll_connections_closed_total', { error: 'none' }) === 8 &&
        sample(text, 'rpc_server_connections') === 0,
    );
  });

  it('drains on SIGTERM: /ready turns 503, a call in flight finishes, then exit 0', async () => {
    const server = await startServerProcess();
    const echo = client(server.address);
    // Long enough that the steps below (a scrape, the signal, the log line, a GET) fit in it
    // however slow the machine: the metrics server closes when this call ends.
    const slow = echo.sleep({ ms: 3000 });
    await eventuallyMetrics(
      server.metricsAddress,
      (text) => sample(text, 'rpc_server_calls_in_flight') === 1,
    );
    server.child.kill('SIGTERM');
    await server.waitForLog('shutting down');
    expect((await httpGet(server.metricsAddress, '/ready')).status).toBe(503);
    expect((await slow).slept).toBeGreaterThanOrEqual(2999);
    const stopped = await server.waitForLog('stopped');
    expect(stopped).toMatchObject({
      handled: 1,
      succeeded: 1,
      complete: true,
      calls: { sleep: { OK: 1 } },
    });
    expect(await server.exited).toBe(0);
  });

  it('reports complete: false when the shutdown timeout cuts a call off', async () => {
    const server = await startServerProcess(['--shutdown-timeout', '300']);
    const echo = client(server.address);
    const slow = echo.sleep({ ms: 3000 }).then(
      () => 'finished',
      (error: { code?: string; processed?: boolean }) => `${error.code} ${error.processed}`,
    );
    await eventuallyMetrics(
      server.metricsAddress,
      (text) => sample(text, 'rpc_server_calls_in_flight') === 1,
    );
    server.child.kill('SIGTERM');
    const stopped = await server.waitForLog('stopped');
    expect(stopped).toMatchObject({ complete: false });
    expect(await slow).toBe('ERR_NETPOLL_RPC_UNAVAILABLE true');
    expect(await server.exited).toBe(0);
  });

  it.each([1, 2])(
    'loses no call when shut down under load with %i reactor(s): each succeeded or was not processed, counted exactly',
    async (reactors) => {
      const run = await shutDownUnderLoad(reactors);
      expect(run.other).toEqual([]);
      expect(run.succeeded + run.notProcessed).toBe(run.issued);
      expect(run.notProcessed).toBeGreaterThan(0); // calls did go on after the shutdown
      // The server ran exactly the calls the client saw succeed: none was run and lost.
      expect(run.stopped).toMatchObject({
        complete: true,
        handled: run.succeeded,
        succeeded: run.succeeded,
      });
      expect(run.exitCode).toBe(0);
    },
  );

  it('refuses a bad configuration before listening: exit 2, naming the flag, the variable and the source', async () => {
    const flag = await runCli(kServerCli, ['--port', '0', '--reactors', 'many'], cleanEnv());
    expect(flag.code).toBe(2);
    expect(flag.stdout).toBe('');
    expect(flag.stderr).toMatch(
      /^--reactors \(ECHO_REACTORS\) must be an integer from 1 to 256 \(received "many" from --reactors\)\n\nusage: /,
    );
    const env = await runCli(kServerCli, [], { ...cleanEnv(), ECHO_LOG_LEVEL: 'loud' });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain(
      '--log-level (ECHO_LOG_LEVEL) must be one of fatal, error, warn, info, debug, trace, silent (received "loud" from ECHO_LOG_LEVEL)',
    );
    // --help prints every setting with its variable.
    const help = await runCli(kServerCli, ['--help'], cleanEnv());
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--port (ECHO_PORT)');
  });

  it.each([1, 2])(
    'exits 1 with a fatal log line when its port is taken, with %i reactor(s)',
    async (reactors) => {
      // Several reactors share their port (SO_REUSEPORT): a second server of the same kind could
      // join the first one's port unless the server checks that it is free.
      const first = await startServerProcess(['--reactors', String(reactors)]);
      const port = first.address.split(':')[1]!;
      const second = await runCli(
        kServerCli,
        ['--port', port, '--metrics-port', '0', '--reactors', String(reactors)],
        cleanEnv(),
      );
      expect(second.code).toBe(1);
      const line = JSON.parse(second.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
      expect(line).toMatchObject({
        level: 60,
        msg: 'failed to start',
        err: { code: 'EADDRINUSE' },
      });
    },
  );
});

/** Fetches /metrics until `done(text)` holds (a reactor counts a call after replying to it). */
async function eventuallyMetrics(
  address: string,
  done: (text: string) => boolean,
): Promise<string> {
  const deadline = performance.now() + 5000;
  for (;;) {
    const text = (await httpGet(address, '/metrics')).body;
    if (done(text)) return text;
    if (performance.now() > deadline) {
      const ours = text.split('\n').filter((line) => /^(rpc|netpoll)_/.test(line));
      throw new Error(`metrics never matched:\n${ours.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Starts a server with `reactors`, runs 64 callers (sleep 5 ms and echo, each calling again as
 * soon as its call settles) through a SIGTERM and until the server logged `stopped`, and returns
 * what the client saw and what the server said it ran.
 */
async function shutDownUnderLoad(reactors: number) {
  const server = await startServerProcess(['--reactors', String(reactors)]);
  const echo = client(server.address, 4);
  let issued = 0;
  let succeeded = 0;
  let notProcessed = 0;
  const other: unknown[] = [];
  let stop = false;
  const caller = async (index: number): Promise<void> => {
    while (!stop) {
      issued++;
      try {
        if (index % 2 === 0) await echo.sleep({ ms: 5 });
        else await echo.echo({ message: `call ${issued}` });
        succeeded++;
      } catch (error) {
        if ((error as { processed?: boolean }).processed === false) notProcessed++;
        else other.push(error);
        // Without a server calls fail in microtasks only: let the event loop (log lines) run.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  };
  const callers = Promise.all(Array.from({ length: 64 }, (_, i) => caller(i)));
  // Calls are flowing (whatever stalls the machine has) before the signal.
  for (const limit = Date.now() + 10_000; succeeded < 64 && Date.now() < limit; ) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(succeeded).toBeGreaterThanOrEqual(64);
  server.child.kill('SIGTERM');
  const stopped = await server.waitForLog('stopped');
  stop = true;
  await callers;
  return { issued, succeeded, notProcessed, other, stopped, exitCode: await server.exited };
}
