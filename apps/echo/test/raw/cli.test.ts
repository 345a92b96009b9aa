import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterTest, destroyAfterTest } from '@netpoll/jest-config/cleanup';
import { parseServeCommand } from '../../src/raw/cli';
import { parseAddress } from '../../src/raw/listen-address';
import { runCli } from '../helpers/run-cli';
import { FrameClient, frame } from './helpers/frame-client';

// The end-to-end tests run the built CLI, exactly as users start it.
const kCli = join(__dirname, '..', '..', 'dist', 'raw', 'cli.js');

/** Starts `cli.js serve ...args`; the server is killed after the test if it still runs. */
function serve(args: readonly string[]) {
  const child = spawn(process.execPath, [kCli, 'serve', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  afterTest(() => child.kill('SIGKILL'));
  return child;
}

describe('echo CLI', () => {
  it.each(['core', 'net'])(
    'serves --impl %s, prints its address and exits 0 after SIGTERM',
    async (implementation) => {
      const child = serve(['--listen', 'tcp://127.0.0.1:0', '--impl', implementation]);
      const exited = once(child, 'exit');
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const match = /^listening on (tcp:\/\/127\.0\.0\.1:\d+)$/.exec(line);
      expect(match).not.toBeNull();
      const client = await FrameClient.connect(parseAddress(match![1]!));
      destroyAfterTest(client.socket);
      const request = frame(Buffer.from('hello, netpoll'));
      client.socket.write(request);
      expect((await client.receive(request.length)).equals(request)).toBe(true);
      child.kill('SIGTERM');
      const [code] = await exited;
      expect(code).toBe(0);
      client.socket.destroy();
    },
  );

  it('serves with --reactors 2: frames from many connections echo byte-exact, then exits 0', async () => {
    const child = serve(['--listen', 'tcp://127.0.0.1:0', '--impl', 'core', '--reactors', '2']);
    const exited = once(child, 'exit');
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    const address = parseAddress(/^listening on (.+)$/.exec(line)![1]!);
    const clients = await Promise.all(
      Array.from({ length: 16 }, () => FrameClient.connect(address)),
    );
    for (const client of clients) destroyAfterTest(client.socket);
    await Promise.all(
      clients.map(async (client, i) => {
        const request = frame(Buffer.alloc(100 + i * 50, i + 1));
        client.socket.write(request);
        expect((await client.receive(request.length)).equals(request)).toBe(true);
      }),
    );
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    for (const client of clients) client.socket.destroy();
  });

  it('exits 2 with the usage on bad flags', async () => {
    const run = await runCli(kCli, ['serve', '--impl', 'core']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--listen is required');
    expect(run.stderr).toContain('usage: cli.js serve');
    expect(run.stdout).toBe('');
  });

  it.each([
    ['--max-frame-size', 'abc', '--max-frame-size must be an integer from 1 to 268435456'],
    ['--max-frame-size', '0', '--max-frame-size must be an integer from 1 to 268435456'],
    ['--max-frame-size', '268435457', '--max-frame-size must be an integer from 1 to 268435456'],
    ['--shutdown-timeout', 'abc', '--shutdown-timeout must be an integer from 0 to 2147483647'],
    ['--shutdown-timeout', '1e3', '--shutdown-timeout must be an integer from 0 to 2147483647'],
    [
      '--shutdown-timeout',
      '2147483648',
      '--shutdown-timeout must be an integer from 0 to 2147483647',
    ],
    ['--reactors', 'abc', '--reactors must be an integer from 1 to 256'],
    ['--reactors', '0', '--reactors must be an integer from 1 to 256'],
    ['--reactors', '257', '--reactors must be an integer from 1 to 256'],
    ['--impl', 'uv', '--impl must be one of core, net, net-batched'],
  ])('exits 2 naming %s and its range for %s, before listening', async (flag, value, message) => {
    const args = ['serve', '--listen', 'tcp://127.0.0.1:0', flag, value];
    const run = await runCli(kCli, args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${message} (received ${value})`);
    expect(run.stdout).toBe(''); // never printed "listening on"
  });

  it('exits 2 naming an unknown flag or a flag without its value', async () => {
    const unknown = await runCli(kCli, ['serve', '--listen', 'unix:/tmp/x', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--bogus'");
    const missing = await runCli(kCli, ['serve', '--listen', 'unix:/tmp/x', '--reactors']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("Option '--reactors <value>' argument missing");
  });

  it.each([[['--help']], [['serve', '--help']], [['serve', '-h', '--reactors', 'abc']]])(
    '%j prints the usage with every flag and its range to stdout and exits 0',
    async (args) => {
      const run = await runCli(kCli, args);
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
      expect(run.stdout).toContain('usage: cli.js serve');
      for (const flag of ['--listen', '--impl', '--max-frame-size', '--shutdown-timeout']) {
        expect(run.stdout).toContain(flag);
      }
      expect(run.stdout).toContain('--reactors N              core only, 1 to 256');
    },
  );
});

describe('parseServeCommand', () => {
  it('applies the defaults: core, 4 MiB frames, 5 s shutdown', () => {
    expect(parseServeCommand(['serve', '--listen', 'unix:/tmp/s'])).toEqual({
      address: { network: 'unix', path: '/tmp/s' },
      implementation: 'core',
      maxFrameSize: 4 * 1024 * 1024,
      shutdownTimeout: 5000,
      reactors: 1,
      statsSignal: false,
    });
  });

  it('parses --reactors and rejects 0, 257, a fraction, and a non-core implementation', () => {
    const base = ['serve', '--listen', 'unix:/s'];
    expect(parseServeCommand([...base, '--reactors', '4']).reactors).toBe(4);
    expect(() => parseServeCommand([...base, '--reactors', '0'])).toThrow(
      '--reactors must be an integer from 1 to 256 (received 0)',
    );
    expect(() => parseServeCommand([...base, '--reactors', '257'])).toThrow(
      '--reactors must be an integer from 1 to 256 (received 257)',
    );
    expect(() => parseServeCommand([...base, '--reactors', '1.5'])).toThrow(
      '--reactors must be an integer from 1 to 256 (received 1.5)',
    );
    // A negative value after a space reaches the flag's own check (parseArgs alone calls it
    // ambiguous, naming neither range nor value).
    expect(() => parseServeCommand([...base, '--max-frame-size', '-1'])).toThrow(
      '--max-frame-size must be an integer from 1 to 268435456 (received -1)',
    );
    expect(() => parseServeCommand([...base, '--impl', 'net', '--reactors', '2'])).toThrow(
      '--reactors applies to --impl core only (received --impl net)',
    );
  });

  it('rejects an unknown implementation and a malformed size', () => {
    expect(() => parseServeCommand(['serve', '--listen', 'unix:/s', '--impl', 'uv'])).toThrow(
      '--impl must be one of core, net, net-batched (received uv)',
    );
    expect(() =>
      parseServeCommand(['serve', '--listen', 'unix:/s', '--max-frame-size', '1.5']),
    ).toThrow('--max-frame-size must be an integer from 1 to 268435456 (received 1.5)');
  });

  it('requires the serve command', () => {
    expect(() => parseServeCommand(['--listen', 'unix:/s'])).toThrow(
      'expected the command "serve" (received none)',
    );
  });
});
