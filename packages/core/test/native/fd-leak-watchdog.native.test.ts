/**
 * A failing test must not hang the run. Runs a suite that fails mid-test with a listener open
 * (test/helpers/leaky-suite.fixture.js) in a jest of its own, configured as every package is
 * (tooling/jest): without cleanup the open listener keeps that jest alive, so its exit watchdog
 * reports the open descriptors and fails the run; with the listener registered with `afterTest`
 * the run ends by itself, reporting only the failed assertion.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { createJestConfig } from '@netpoll/jest-config';
import { afterTest, describeNative } from '../helpers/native';

const kPackage = join(__dirname, '..', '..');

interface JestRun {
  code: number | null;
  stderr: string;
}

/** Runs the fixture suite in band, with the exit watchdog's grace time cut to 2 s. */
function runLeakySuite(cleanup: boolean): Promise<JestRun> {
  const config = createJestConfig(kPackage, {
    testMatch: ['<rootDir>/test/helpers/leaky-suite.fixture.js'],
    reporters: [
      'default',
      [require.resolve('@netpoll/jest-config/exit-watchdog'), { graceMs: 2000 }],
    ],
  });
  const jest = require.resolve('jest/bin/jest');
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [jest, '--config', JSON.stringify(config), '--runInBand', '--ci'],
      { cwd: kPackage, env: { ...process.env, NETPOLL_FIXTURE_CLEANUP: cleanup ? '1' : '0' } },
      (error, _stdout, stderr) =>
        resolve({ code: error === null ? 0 : (error.code as number), stderr }),
    );
    afterTest(() => child.kill('SIGKILL'));
  });
}

describeNative('a failing real-socket test does not hang jest', () => {
  it('without cleanup, the exit watchdog reports the open descriptors and fails the run', async () => {
    const run = await runLeakySuite(false);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Tests: +1 failed, 1 total/);
    expect(run.stderr).toContain(
      'exit watchdog: jest was still running 2 s after the test run completed',
    );
    // Among the open descriptors (listed from /proc on Linux): the listening socket and the
    // reactor's epoll descriptor.
    if (process.platform === 'linux') {
      const descriptors = /open descriptors: (.*)/.exec(run.stderr)?.[1] ?? '';
      expect(descriptors).toContain('socket');
      expect(descriptors).toContain('anon_inode:[eventpoll]');
    }
  }, 60_000);

  it('with the listener registered with afterTest, the run ends by itself with the failure', async () => {
    const run = await runLeakySuite(true);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Tests: +1 failed, 1 total/);
    expect(run.stderr).toContain('Expected: "what the test expected"');
    expect(run.stderr).not.toContain('exit watchdog');
  }, 60_000);
});
