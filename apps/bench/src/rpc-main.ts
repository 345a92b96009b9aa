/**
 * `main.js rpc`: the RPC benchmark. Checks the flags, builds the native load generator when a
 * run needs it, runs every caller count × stack `--repeats` times (the stack order rotates from
 * repeat to repeat, so none always runs first), prints one line per run and the report, and
 * writes every figure with the machine and the command to the JSON file.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { relative } from 'node:path';
import { wantsHelp } from '@netpoll/app-echo';
import type { AllocFigures } from './alloc-meter';
import { type RpcRunOptions, type RpcRunResult, runRpcOnce } from './rpc-bench';
import { canPin, pinSelf } from './rpc-children';
import { kRpcUsage, parseRpcCommand, type RpcCommand } from './rpc-commands';
import { ensureRpcLoadgen } from './rpc-loadgen';
import { renderRpcReport, rpcRatios, rpcTargets, summarizeRpc } from './rpc-report';

/** What the JSON file says about the machine. */
export interface MachineDescription {
  readonly cpuModel: string;
  readonly cores: number;
  readonly node: string;
  readonly kernel: string;
  readonly platform: string;
  /** The 1, 5 and 15 minute load averages when the bench started and ended. */
  readonly loadAverageAtStart: readonly number[];
  loadAverageAtEnd?: readonly number[];
  /** Servers on CPU 0 and clients on CPU 1 (false: the machine has one CPU or no taskset). */
  readonly pinned: boolean;
}

function describeMachine(pinned: boolean): MachineDescription {
  const list = cpus();
  return {
    cpuModel: list[0]?.model ?? 'unknown',
    cores: list.length,
    node: process.version,
    kernel: release(),
    platform: `${process.platform} ${process.arch}`,
    loadAverageAtStart: loadavg(),
    pinned,
  };
}

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

const shellWord = (word: string): string =>
  /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;

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
  const options: RpcRunOptions = {
    connections: command.connections,
    payloadSize: command.payloadSize,
    warmupMs: command.warmupMs,
    durationMs: command.durationMs,
    timeoutMs: command.timeoutMs,
    pinned,
    ...(command.stacks.includes('netpoll-native-load') ? { loadgenPath: ensureRpcLoadgen() } : {}),
  };
  const machine = describeMachine(pinned);
  const commandLine = ['node', relative(process.cwd(), process.argv[1]!) || '.', 'rpc', ...argv]
    .map(shellWord)
    .join(' ');
  const jsonPath =
    command.json ?? `rpc-bench-${new Date().toISOString().replaceAll(':', '-')}.json`;
  process.stderr.write(
    `${commandLine}\n${machine.cpuModel}, ${machine.cores} CPUs, Node ${machine.node}, Linux ${machine.kernel}, ` +
      `load average ${machine.loadAverageAtStart.map((value) => value.toFixed(2)).join(' ')}, ` +
      `${pinned ? 'servers on CPU 0, clients on CPU 1' : 'not pinned'}\n`,
  );
  const started = new Date().toISOString();
  const results: RpcRunResult[] = [];
  const { repeats, stacks } = command;
  for (let repeat = 1; repeat <= repeats; repeat++) {
    for (const callers of command.callers) {
      const order = stacks.map((_, index) => stacks[(index + repeat - 1) % stacks.length]!);
      for (const stack of order) {
        const result = await runRpcOnce(stack, callers, options);
        results.push(result);
        process.stderr.write(
          `[${repeat}/${repeats}] ${stack}, ${callers} callers: server ${result.serverCpuMicrosPerCall.toFixed(2)} µs/call, ` +
            `client ${result.clientCpuMicrosPerCall.toFixed(2)} µs/call, ${Math.round(result.callsPerSecond)} calls/s, ` +
            `p50 ${result.p50Micros.toFixed(0)} µs, p99 ${result.p99Micros.toFixed(0)} µs, ${result.errors} errors` +
            `${result.firstError === undefined ? '' : ` (${result.firstError})`}; ` +
            `server ${allocText(result.serverAlloc)}` +
            `${result.clientAlloc === null ? '' : `, client ${allocText(result.clientAlloc)}`}\n`,
        );
      }
    }
  }
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
        command: commandLine,
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
