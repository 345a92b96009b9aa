/**
 * `main.js` (no subcommand): the echo benchmark. Runs every repeat × scenario × server (servers
 * interleaved within every repeat), prints one line per run and the report. `main.js all` runs the
 * same matrix through `echoPlan` and `runEchoPlan`.
 */
import { writeFileSync } from 'node:fs';
import { wantsHelp } from '@netpoll/app-echo';
import { ensureCEcho } from './c-echo';
import { type BenchCommand, kBenchUsage, parseBenchCommand } from './commands';
import {
  type EchoBenchOptions,
  kCImplementation,
  type RunResult,
  runOnce,
  type Scenario,
} from './echo-bench';
import { renderReport, summarize } from './report';

/** One run of the echo matrix. */
export interface EchoPlannedRun {
  readonly repeat: number;
  readonly scenario: Scenario;
  readonly implementation: string;
}

export function echoPlan(command: BenchCommand): EchoPlannedRun[] {
  const plan: EchoPlannedRun[] = [];
  for (let repeat = 1; repeat <= command.repeats; repeat++) {
    for (const scenario of command.scenarios) {
      for (const implementation of command.implementations) {
        plan.push({ repeat, scenario, implementation });
      }
    }
  }
  return plan;
}

/** The options every run of `command` shares (builds the C server when `c` is in it). */
export function echoRunOptions(command: BenchCommand): EchoBenchOptions {
  return {
    echoCli: require.resolve('@netpoll/app-echo/cli'),
    loadgen: require.resolve('./loadgen'),
    ...(command.implementations.includes(kCImplementation) ? { cEcho: ensureCEcho() } : {}),
    client: command.client,
    payloadSize: command.payloadSize,
    warmupMs: command.warmupMs,
    durationMs: command.durationMs,
  };
}

export function echoRunLine(result: RunResult): string {
  return (
    `${result.scenario} ${result.implementation}: ` +
    `${result.cpuMicrosPerRequest.toFixed(2)} µs/req, ${Math.round(result.requestsPerSecond)} req/s, ` +
    `p99 ${result.p99Micros.toFixed(0)} µs`
  );
}

export async function runEchoPlan(
  plan: readonly EchoPlannedRun[],
  options: EchoBenchOptions,
  onRun: (result: RunResult, run: EchoPlannedRun) => void,
): Promise<RunResult[]> {
  const results: RunResult[] = [];
  for (const run of plan) {
    const result = await runOnce(run.implementation, run.scenario, options);
    results.push(result);
    onRun(result, run);
  }
  return results;
}

/** Runs `main.js ARGS` (the echo benchmark); sets process.exitCode. */
export async function echoMain(argv: readonly string[]): Promise<void> {
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
  const { repeats } = command;
  const results = await runEchoPlan(echoPlan(command), echoRunOptions(command), (result, run) => {
    process.stderr.write(`[${run.repeat}/${repeats}] ${echoRunLine(result)}\n`);
  });
  process.stdout.write(`${renderReport(summarize(results), 'net')}\n`);
  if (command.json !== undefined) writeFileSync(command.json, JSON.stringify(results, null, 2));
}
