#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import { wantsHelp } from '@netpoll/app-echo';
import { type BenchCommand, kBenchUsage, parseBenchCommand } from './commands';
import { type EchoBenchOptions, type RunResult, runOnce } from './echo-bench';
import { renderReport, summarize } from './report';
import { rpcMain } from './rpc-main';

async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === 'rpc') {
    await rpcMain(argv.slice(1));
    return;
  }
  if (wantsHelp(argv)) {
    process.stdout.write(`${kBenchUsage}\n`);
    return;
  }
  let command: BenchCommand;
  try {
    command = parseBenchCommand(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${kBenchUsage}\n`);
    process.exitCode = 2;
    return;
  }
  const options: EchoBenchOptions = {
    echoCli: require.resolve('@netpoll/app-echo/cli'),
    loadgen: require.resolve('./loadgen'),
    client: command.client,
    payloadSize: command.payloadSize,
    warmupMs: command.warmupMs,
    durationMs: command.durationMs,
  };
  const results: RunResult[] = [];
  const { repeats } = command;
  for (let repeat = 1; repeat <= repeats; repeat++) {
    for (const scenario of command.scenarios) {
      for (const implementation of command.implementations) {
        const result = await runOnce(implementation, scenario, options);
        results.push(result);
        process.stderr.write(
          `[${repeat}/${repeats}] ${scenario.name} ${implementation}: ` +
            `${result.cpuMicrosPerRequest.toFixed(2)} µs/req, ${Math.round(result.requestsPerSecond)} req/s, ` +
            `p99 ${result.p99Micros.toFixed(0)} µs\n`,
        );
      }
    }
  }
  process.stdout.write(`${renderReport(summarize(results), 'net')}\n`);
  if (command.json !== undefined) writeFileSync(command.json, JSON.stringify(results, null, 2));
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
