/**
 * The built client CLI against the built server, both real processes: `call` prints the
 * response or the coded error, `load` prints a summary whose counts the server's /metrics
 * confirm.
 */
import { runCli } from './helpers/run-cli';
import {
  cleanEnv,
  httpGet,
  kClientCli,
  sample,
  startServerProcess,
} from './helpers/server-process';

describe('client-cli.js', () => {
  it('call prints the response, or the coded error and exits 1', async () => {
    const server = await startServerProcess();
    const env = { ...cleanEnv(), ECHO_ADDRESS: server.address };
    expect(await runCli(kClientCli, ['call', 'echo', 'message=hello'], env)).toEqual({
      code: 0,
      stdout: '{"message":"hello"}\n',
      stderr: '',
    });
    const hash = await runCli(kClientCli, ['call', 'hash', '{"data":"abc","rounds":2}'], env);
    expect(hash.stdout).toBe(
      '{"digest":"4f8b42c22dd3729b519ba6f68d2da7cc5b2d606d05daed5ad5128cc03e6c6358","rounds":2}\n',
    );
    const timedOut = await runCli(
      kClientCli,
      ['call', 'sleep', 'ms=5000', '--timeout', '1000'],
      env,
    );
    expect(timedOut).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'ERR_NETPOLL_RPC_TIMEOUT: call sleep timed out after 1000 ms (may have been processed)\n',
    });
  });

  it('call against no server prints UNAVAILABLE, not processed', async () => {
    const server = await startServerProcess();
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    const result = await runCli(
      kClientCli,
      ['call', 'health', '--address', server.address],
      cleanEnv(),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^ERR_NETPOLL_RPC_UNAVAILABLE: .*ECONNREFUSED.* \(not processed: safe to retry\)\n$/,
    );
  });

  it('call refuses a bad request before sending it: exit 2, naming the field', async () => {
    const result = await runCli(kClientCli, ['call', 'hash', 'data=x', 'rounds=0'], cleanEnv());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^bad request: hash: rounds must be an integer from 1 to 1000000 \(received 0\)\n\nusage: /,
    );
  });

  it('load prints a summary that the server metrics confirm', async () => {
    const server = await startServerProcess();
    const env = { ...cleanEnv(), ECHO_ADDRESS: server.address };
    const result = await runCli(
      kClientCli,
      [
        'load',
        '--method',
        'sleep',
        '--request',
        'ms=2',
        '--calls',
        '300',
        '--concurrency',
        '20',
        '--json',
      ],
      env,
    );
    expect(result.stderr).toBe(''); // no progress bar without a terminal
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({
      method: 'sleep',
      calls: 300,
      succeeded: 300,
      failed: 0,
      errors: {},
    });
    const latency = summary.latency as Record<string, number>;
    expect(latency.p50).toBeGreaterThanOrEqual(2);
    expect(latency.p99).toBeGreaterThanOrEqual(latency.p50!);
    expect(summary.callsPerSecond).toBeGreaterThan(0);
    const metrics = (await httpGet(server.metricsAddress, '/metrics')).body;
    expect(sample(metrics, 'rpc_server_calls_total', { method: 'sleep', code: 'OK' })).toBe(300);

    const text = await runCli(kClientCli, ['load', '--calls', '50', '--method', 'health'], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /^health: 50 calls in \d+\.\d\d s, \d+ calls\/s\nsucceeded 50, failed 0 \(not processed 0\)\nlatency ms: p50 [\d.]+ {2}p90 [\d.]+ {2}p99 [\d.]+ {2}max [\d.]+\nerrors by code: none\n$/,
    );
  });

  it('load exits 1 and counts the errors by code when calls fail', async () => {
    const server = await startServerProcess();
    const result = await runCli(
      kClientCli,
      [
        'load',
        '--method',
        'sleep',
        '--request',
        'ms=1000',
        '--timeout',
        '50',
        '--calls',
        '4',
        '--json',
      ],
      { ...cleanEnv(), ECHO_ADDRESS: server.address },
    );
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      calls: 4,
      succeeded: 0,
      failed: 4,
      errors: { ERR_NETPOLL_RPC_TIMEOUT: 4 },
    });
  });

  it('--help prints the usage and exits 0', async () => {
    const result = await runCli(kClientCli, ['--help'], cleanEnv());
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('client-cli.js call METHOD [REQUEST]');
  });
});
