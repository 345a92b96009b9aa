import { join } from 'node:path';
import { kBenchUsage, kLoadUsage, parseBenchCommand, parseLoadCommand } from '../src/commands';
import { kScenarios } from '../src/echo-bench';
import { runCli } from './helpers/run-cli';

// The end-to-end cases run the built commands, exactly as users start them. Every bad value
// must be refused before anything starts: no server, no load, nothing on stdout.
const kMain = join(__dirname, '..', 'dist', 'main.js');
const kLoadgen = join(__dirname, '..', 'dist', 'loadgen.js');

describe('main.js', () => {
  it.each([
    ['--repeats', 'abc', '--repeats must be an integer from 1 to 1000'],
    ['--repeats', '0', '--repeats must be an integer from 1 to 1000'],
    ['--repeats', '2.5', '--repeats must be an integer from 1 to 1000'],
    ['--duration', 'abc', '--duration must be an integer from 100 to 3600000'],
    ['--duration', '99', '--duration must be an integer from 100 to 3600000'],
    ['--warmup', '1e3', '--warmup must be an integer from 0 to 600000'],
    ['--payload', '4194305', '--payload must be an integer from 0 to 4194304'],
    [
      '--scenarios',
      '3',
      '--scenarios must be a comma-separated list of distinct values from 0, 1, 2',
    ],
    [
      '--scenarios',
      '0,0',
      '--scenarios must be a comma-separated list of distinct values from 0, 1, 2',
    ],
    [
      '--impls',
      'core,uv',
      '--impls must be a comma-separated list of distinct values from core, net, net-batched, c',
    ],
    ['--client', 'c', '--client must be one of core, net'],
  ])('exits 2 naming %s and what it accepts for %s', async (flag, value, message) => {
    const run = await runCli(kMain, [flag, value]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${message} (received ${value})`);
    expect(run.stderr).toContain('usage: main.js');
    expect(run.stdout).toBe('');
  });

  it('exits 2 naming an unknown flag', async () => {
    const run = await runCli(kMain, ['--repeat', '3']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Unknown option '--repeat'");
  });

  it.each([[['--help']], [['-h']], [['--repeats', 'abc', '--help']]])(
    '%j prints the usage with every flag and its range to stdout and exits 0',
    async (args) => {
      const run = await runCli(kMain, args);
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe(`${kBenchUsage}\n`);
      for (const text of ['--impls', '--scenarios', '--json', '1 to 1000', '100 to 3600000']) {
        expect(run.stdout).toContain(text);
      }
    },
  );
});

describe('loadgen.js', () => {
  const connect = ['--connect', 'tcp://127.0.0.1:9'];

  it.each([
    ['--connections', '0', '--connections must be an integer from 1 to 10000'],
    ['--connections', 'many', '--connections must be an integer from 1 to 10000'],
    ['--depth', '1025', '--depth must be an integer from 1 to 1024'],
    ['--payload', '-1', "Option '--payload' argument is ambiguous"],
    ['--duration', 'abc', '--duration must be an integer from 100 to 3600000'],
    ['--warmup', '600001', '--warmup must be an integer from 0 to 600000'],
    ['--client', 'c', '--client must be one of core, net'],
  ])('exits 2 naming %s for %s', async (flag, value, message) => {
    const run = await runCli(kLoadgen, [...connect, flag, value]);
    expect(run.code).toBe(2);
    // A value starting with '-' is refused by the argument parser itself, naming the flag.
    expect(run.stderr).toContain(
      value.startsWith('-') ? message : `${message} (received ${value})`,
    );
    expect(run.stdout).toBe('');
  });

  it('exits 2 without --connect or with a malformed one', async () => {
    const missing = await runCli(kLoadgen, []);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--connect is required');
    const malformed = await runCli(kLoadgen, ['--connect', 'localhost:7']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain(
      '--connect must be tcp://HOST:PORT or unix:PATH (received localhost:7)',
    );
  });

  it('--help prints the usage to stdout and exits 0', async () => {
    const run = await runCli(kLoadgen, ['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${kLoadUsage}\n`);
  });
});

describe('parseBenchCommand', () => {
  it('applies the defaults: every server and scenario, 5 repeats of 5 s, 1 KiB payloads', () => {
    expect(parseBenchCommand([])).toEqual({
      implementations: ['core', 'net', 'net-batched'],
      scenarios: kScenarios,
      repeats: 5,
      durationMs: 5000,
      warmupMs: 1000,
      payloadSize: 1024,
      client: 'core',
      json: undefined,
    });
  });

  it('parses every flag', () => {
    const command = parseBenchCommand([
      ...['--impls', 'core', '--scenarios', '2,0', '--repeats', '3', '--duration', '3000'],
      ...['--warmup', '0', '--payload', '16', '--client', 'net', '--json', 'out.json'],
    ]);
    expect(command).toEqual({
      implementations: ['core'],
      scenarios: [kScenarios[2], kScenarios[0]],
      repeats: 3,
      durationMs: 3000,
      warmupMs: 0,
      payloadSize: 16,
      client: 'net',
      json: 'out.json',
    });
  });
});

describe('parseLoadCommand', () => {
  it('applies the defaults and requires --connect', () => {
    expect(parseLoadCommand(['--connect', 'unix:/tmp/echo.sock'])).toEqual({
      connect: 'unix:/tmp/echo.sock',
      client: 'core',
      connections: 100,
      depth: 1,
      payloadSize: 1024,
      warmupMs: 1000,
      durationMs: 5000,
    });
    expect(() => parseLoadCommand([])).toThrow('--connect is required');
  });
});
