import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseServeCommand } from '../src/cli';
import { parseAddress } from '../src/listen-address';
import { FrameClient, frame } from './helpers/frame-client';

// The end-to-end tests run the built CLI, exactly as users start it.
const kCli = join(__dirname, '..', 'dist', 'cli.js');

describe('echo CLI', () => {
  it.each(['core', 'net'])(
    'serves --impl %s, prints its address and exits 0 after SIGTERM',
    async (implementation) => {
      const child = spawn(
        process.execPath,
        [kCli, 'serve', '--listen', 'tcp://127.0.0.1:0', '--impl', implementation],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const exited = once(child, 'exit');
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const match = /^listening on (tcp:\/\/127\.0\.0\.1:\d+)$/.exec(line);
      expect(match).not.toBeNull();
      const client = await FrameClient.connect(parseAddress(match![1]!));
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
    const child = spawn(
      process.execPath,
      [kCli, 'serve', '--listen', 'tcp://127.0.0.1:0', '--impl', 'core', '--reactors', '2'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = once(child, 'exit');
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    const address = parseAddress(/^listening on (.+)$/.exec(line)![1]!);
    const clients = await Promise.all(
      Array.from({ length: 16 }, () => FrameClient.connect(address)),
    );
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
    const child = spawn(process.execPath, [kCli, 'serve', '--impl', 'core'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(stderr).toContain('--listen is required');
    expect(stderr).toContain('usage: cli.js serve');
  });
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
      '--reactors must be from 1 to 256 (received 0)',
    );
    expect(() => parseServeCommand([...base, '--reactors', '257'])).toThrow(
      '--reactors must be from 1 to 256 (received 257)',
    );
    expect(() => parseServeCommand([...base, '--reactors', '1.5'])).toThrow(
      '--reactors must be a non-negative integer (received 1.5)',
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
    ).toThrow('--max-frame-size must be a non-negative integer (received 1.5)');
  });

  it('requires the serve command', () => {
    expect(() => parseServeCommand(['--listen', 'unix:/s'])).toThrow(
      'expected the command "serve" (received none)',
    );
  });
});
