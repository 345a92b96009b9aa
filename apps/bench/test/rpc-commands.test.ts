import { join } from 'node:path';
import { kRpcStacks, kRpcUsage, parseIntegerListFlag, parseRpcCommand } from '../src/rpc-commands';
import { runCli } from './helpers/run-cli';

// `main.js rpc` refuses every bad value before anything starts: no server, no client, nothing
// on stdout, exit status 2 and a message naming the flag, its range and the value received.
const kMain = join(__dirname, '..', 'dist', 'main.js');

describe('main.js rpc', () => {
  it.each([
    ['--repeats', 'abc', '--repeats must be an integer from 1 to 1000'],
    ['--repeats', '0', '--repeats must be an integer from 1 to 1000'],
    ['--repeats', '1001', '--repeats must be an integer from 1 to 1000'],
    ['--duration', '99', '--duration must be an integer from 100 to 3600000'],
    ['--duration', '4e3', '--duration must be an integer from 100 to 3600000'],
    ['--warmup', '600001', '--warmup must be an integer from 0 to 600000'],
    ['--connections', '0', '--connections must be an integer from 1 to 256'],
    ['--connections', '257', '--connections must be an integer from 1 to 256'],
    ['--payload', '1048577', '--payload must be an integer from 0 to 1048576'],
    ['--payload', '1.5', '--payload must be an integer from 0 to 1048576'],
    ['--timeout', '0', '--timeout must be an integer from 1 to 600000'],
    [
      '--callers',
      '0',
      '--callers must be a comma-separated list of distinct integers from 1 to 10000',
    ],
    [
      '--callers',
      '100,100',
      '--callers must be a comma-separated list of distinct integers from 1 to 10000',
    ],
    [
      '--callers',
      '100,10001',
      '--callers must be a comma-separated list of distinct integers from 1 to 10000',
    ],
    [
      '--callers',
      '100,',
      '--callers must be a comma-separated list of distinct integers from 1 to 10000',
    ],
    [
      '--stacks',
      'net,http',
      `--stacks must be a comma-separated list of distinct values from ${kRpcStacks.join(', ')}`,
    ],
    [
      '--stacks',
      'net,net',
      `--stacks must be a comma-separated list of distinct values from ${kRpcStacks.join(', ')}`,
    ],
  ])('exits 2 naming %s and what it accepts for %s', async (flag, value, message) => {
    const run = await runCli(kMain, ['rpc', flag, value]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${message} (received ${value})`);
    expect(run.stderr).toContain('usage: main.js rpc');
    expect(run.stdout).toBe('');
  });

  it('exits 2 naming an unknown flag or a flag without its value', async () => {
    const unknown = await runCli(kMain, ['rpc', '--caller', '100']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--caller'");
    const missing = await runCli(kMain, ['rpc', '--repeats']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("Option '--repeats <value>' argument missing");
    const empty = await runCli(kMain, ['rpc', '--json', '']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('--json must name a file');
  });

  it.each([[['rpc', '--help']], [['rpc', '-h']], [['rpc', '--callers', '0', '--help']]])(
    '%j prints the usage with every flag and its range to stdout and exits 0',
    async (args) => {
      const run = await runCli(kMain, args);
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe(`${kRpcUsage}\n`);
      for (const text of [
        ...kRpcStacks,
        '--callers',
        '--connections',
        '--timeout',
        '--json',
        '1 to 1000',
        '100 to 3600000',
        '1 to 10000',
      ]) {
        expect(run.stdout).toContain(text);
      }
    },
  );

  it("is listed in main.js's own usage", async () => {
    const run = await runCli(kMain, ['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('main.js rpc ...');
  });
});

describe('parseRpcCommand', () => {
  it('applies the defaults: every stack at 100 and 1000 callers, 5 repeats of 4 s, 1 KiB', () => {
    expect(parseRpcCommand([])).toEqual({
      stacks: [
        'net',
        'net-pool',
        'grpc',
        'netpoll-mux',
        'netpoll-pool',
        'netpoll-native-load',
        'net-native-load',
        'c-native-load',
        'starter',
      ],
      callers: [100, 1000],
      repeats: 5,
      durationMs: 4000,
      warmupMs: 1000,
      connections: 4,
      payloadSize: 1024,
      timeoutMs: 5000,
      json: undefined,
    });
  });

  it('parses every flag', () => {
    expect(
      parseRpcCommand([
        ...['--stacks', 'grpc,net', '--callers', '1000,1', '--repeats', '3', '--duration', '300'],
        ...['--warmup', '0', '--connections', '8', '--payload', '0', '--timeout', '250'],
        ...['--json', 'out.json'],
      ]),
    ).toEqual({
      stacks: ['grpc', 'net'],
      callers: [1000, 1],
      repeats: 3,
      durationMs: 300,
      warmupMs: 0,
      connections: 8,
      payloadSize: 0,
      timeoutMs: 250,
      json: 'out.json',
    });
  });
});

describe('parseIntegerListFlag', () => {
  it('keeps the order and refuses signs, fractions, exponents and blanks', () => {
    expect(parseIntegerListFlag('3,1,2', '--n', 1, 3)).toEqual([3, 1, 2]);
    for (const text of ['', '+1', '1.0', '1e0', ' 1', '0x1', '4']) {
      expect(() => parseIntegerListFlag(text, '--n', 1, 3)).toThrow(
        `--n must be a comma-separated list of distinct integers from 1 to 3 (received ${text})`,
      );
    }
  });
});
