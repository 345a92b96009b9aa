/**
 * `main.js rpc`: the RPC benchmark. Checks the flags, builds the native load generator when a
 * run needs it, runs every caller count × stack `--repeats` times (the stack order rotates from
 * repeat to repeat, so none always runs first), prints one line per run and the report, and
 * writes every figure with the machine and the command to the JSON file. `main.js all` runs the
 * same matrix through `rpcPlan` and `runRpcPlan`.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { wantsHelp } from '@netpoll/app-echo';
import type { AllocFigures } from './alloc-meter';
import { ensureCEcho } from './c-echo';
import { commandLine, describeMachine, machineLine } from './machine';
import { type RpcRunOptions, type RpcRunResult, runRpcOnce } from './rpc-bench';
import { canPin, pinSelf } from './rpc-children';
import {
  isNativeLoad,
  kRpcUsage,
  parseRpcCommand,
  type RpcCommand,
  type RpcStack,
} from './rpc-commands';
import { ensureRpcLoadgen } from './rpc-loadgen';
import { renderRpcReport, rpcRatios, rpcTargets, summarizeRpc } from './rpc-report';

/** A side's allocation for the per-run line: heap and ArrayBuffer bytes per call. */
function allocText(alloc: AllocFigures): string {
  const perCall = (value: number | null, digits: number) =>
    value === null ? '-' : value.toFixed(digits);
  return (
    `heap ${perCall(alloc.heapBytesPerCall, 0)} B/call, ` +
    `ArrayBuffers ${perCall(alloc.arrayBufferBytesPerCall, 1)} B/call ` +
    `(${alloc.arrayBufferCalls} of ${alloc.calls} calls clear of GC)`
  );
}

/** One run of the matrix, in the order they run. */
export interface RpcPlannedRun {
  readonly repeat: number;
  readonly callers: number;
  readonly stack: RpcStack;
}

/** Every run of `command`: repeats × caller counts × stacks, the stack order rotating per repeat. */
export function rpcPlan(command: RpcCommand): RpcPlannedRun[] {
  const plan: RpcPlannedRun[] = [];
  const { stacks } = command;
  for (let repeat = 1; repeat <= command.repeats; repeat++) {
    for (const callers of command.callers) {
      for (let index = 0; index < stacks.length; index++) {
        plan.push({ repeat, callers, stack: stacks[(index + repeat - 1) % stacks.length]! });
      }
    }
  }
  return plan;
}

/**
 * The options every run of `command` shares (builds the native load generator and the C echo
 * server if needed).
 */
export function rpcRunOptions(command: RpcCommand, pinned: boolean): RpcRunOptions {
  // Built before the first run, not inside a pinned server process halfway through the matrix.
  if (command.stacks.includes('c-native-load')) ensureCEcho();
  return {
    connections: command.connections,
    payloadSize: command.payloadSize,
    warmupMs: command.warmupMs,
    durationMs: command.durationMs,
    timeoutMs: command.timeoutMs,
    pinned,
    ...(command.stacks.some(isNativeLoad) ? { loadgenPath: ensureRpcLoadgen() } : {}),
  };
}

/** The line printed after one run. */
export function rpcRunLine(result: RpcRunResult): string {
  return (
    `${result.stack}, ${result.callers} callers: server ${result.serverCpuMicrosPerCall.toFixed(2)} µs/call ` +
    `(kernel ${result.serverSystemMicrosPerCall.toFixed(2)}), ` +
    `client ${result.clientCpuMicrosPerCall.toFixed(2)} µs/call, ${Math.round(result.callsPerSecond)} calls/s, ` +
    `p50 ${result.p50Micros.toFixed(0)} µs, p99 ${result.p99Micros.toFixed(0)} µs, ${result.errors} errors` +
    `${result.firstError === undefined ? '' : ` (${result.firstError})`}; ` +
    `${result.serverAlloc === null ? 'server allocation not measured' : `server ${allocText(result.serverAlloc)}`}` +
    `${result.clientAlloc === null ? '' : `, client ${allocText(result.clientAlloc)}`}`
  );
}

/** Runs every run of `plan` in turn, calling `onRun` after each. */
export async function runRpcPlan(
  plan: readonly RpcPlannedRun[],
  options: RpcRunOptions,
  onRun: (result: RpcRunResult, run: RpcPlannedRun) => void,
): Promise<RpcRunResult[]> {
  const results: RpcRunResult[] = [];
  for (const run of plan) {
    const result = await runRpcOnce(run.stack, run.callers, options);
    results.push(result);
    onRun(result, run);
  }
  return results;
}

/** Runs `main.js rpc ARGS`; sets process.exitCode. */
export async function rpcMain(argv: readonly string[]): Promise<void> {
  if (wantsHelp(argv)) {
    process.stdout.write(`${kRpcUsage}\n`);
    return;
  }
  let command: RpcCommand;
  try {
    command = parseRpcCommand(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${kRpcUsage}\n`);
    process.exitCode = 2;
    return;
  }
  const pinned = canPin();
  // The bench itself stays off the servers' CPU.
  if (pinned) pinSelf(1);
  const options = rpcRunOptions(command, pinned);
  const machine = describeMachine(pinned);
  const commandText = commandLine(['rpc', ...argv]);
  const jsonPath =
    command.json ?? `rpc-bench-${new Date().toISOString().replaceAll(':', '-')}.json`;
  process.stderr.write(`${commandText}\n${machineLine(machine)}\n`);
  const started = new Date().toISOString();
  const { repeats } = command;
  const results = await runRpcPlan(rpcPlan(command), options, (result, run) => {
    process.stderr.write(`[${run.repeat}/${repeats}] ${rpcRunLine(result)}\n`);
  });
  machine.loadAverageAtEnd = loadavg();
  const summaries = summarizeRpc(results);
  const ratios = rpcRatios(summaries);
  process.stdout.write(`${renderRpcReport(summaries, command.payloadSize)}\n`);
  process.stdout.write(
    `\nload average ${machine.loadAverageAtStart.map((value) => value.toFixed(2)).join(' ')} at the start, ` +
      `${machine.loadAverageAtEnd.map((value) => value.toFixed(2)).join(' ')} at the end\n`,
  );
  writeFileSync(
    jsonPath,
    `${JSON.stringify(
      {
        command: commandText,
        argv: process.argv,
        cwd: process.cwd(),
        machine,
        started,
        finished: new Date().toISOString(),
        options: command,
        runs: results,
        summaries,
        ratios,
        targets: rpcTargets(ratios, summaries, command.payloadSize),
      },
      null,
      2,
    )}\n`,
  );
  process.stderr.write(`results written to ${jsonPath}\n`);
}
