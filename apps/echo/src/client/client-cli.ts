#!/usr/bin/env node
/**
 * The client entry: `node dist/client/client-cli.js call echo message=hi` for one call,
 * `node dist/client/client-cli.js load --duration 2000` for a short load. See `--help`.
 */
import { Presets, SingleBar } from 'cli-progress';
import { ConfigError } from '../config-error';
import { wantsHelp } from '../flags';
import {
  type ClientCommand,
  kClientUsage,
  type LoadCommand,
  parseClientCommand,
} from './client-config';
import { createEchoClient, describeCallError } from './echo-client';
import { formatLoadSummary, runLoad } from './run-load';

async function call(command: ClientCommand & { command: 'call' }): Promise<number> {
  const client = createEchoClient(command.address, { connections: 1, timeout: command.timeout });
  try {
    const response = await client.call(command.method, command.request);
    process.stdout.write(`${JSON.stringify(response)}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`${describeCallError(error)}\n`);
    return 1;
  } finally {
    client.destroy();
  }
}

async function load(command: LoadCommand): Promise<number> {
  const client = createEchoClient(command.address, {
    connections: command.connections,
    timeout: command.timeout,
  });
  // A bar only on a terminal: piped output (CI, tests) gets the summary alone.
  const bar = process.stderr.isTTY
    ? new SingleBar(
        {
          stream: process.stderr,
          format:
            command.calls > 0
              ? ' {bar} {percentage}% | {value}/{total} calls | {eta}s left'
              : ' {bar} {percentage}% | {value} calls | {elapsed}s of {seconds}s',
          hideCursor: true,
        },
        Presets.shades_classic,
      )
    : null;
  const started = performance.now();
  const total = command.calls > 0 ? command.calls : 100;
  bar?.start(total, 0, { seconds: command.duration / 1000 });
  // Ctrl-C stops the load early; the summary still counts every call made.
  const stop = new AbortController();
  const onSigint = (): void => stop.abort();
  process.once('SIGINT', onSigint);
  try {
    const summary = await runLoad(client, {
      method: command.method,
      request: command.request,
      concurrency: command.concurrency,
      calls: command.calls,
      duration: command.duration,
      timeout: command.timeout,
      signal: stop.signal,
      onProgress:
        bar === null
          ? undefined
          : (settled) => {
              if (command.calls > 0) bar.update(settled);
              else {
                const elapsed = performance.now() - started;
                bar.update(Math.min(100, Math.floor((elapsed / command.duration) * 100)));
              }
            },
    });
    bar?.update(total);
    bar?.stop();
    process.stdout.write(
      command.json ? `${JSON.stringify(summary)}\n` : `${formatLoadSummary(summary)}\n`,
    );
    return summary.failed === 0 ? 0 : 1;
  } finally {
    bar?.stop();
    process.off('SIGINT', onSigint);
    await client.close();
  }
}

async function main(argv: readonly string[]): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(`${kClientUsage}\n`);
    return 0;
  }
  let command: ClientCommand;
  try {
    command = parseClientCommand(argv, process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n\n${kClientUsage}\n`);
    return 2;
  }
  return command.command === 'call' ? call(command) : load(command);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(
        `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
    },
  );
}
