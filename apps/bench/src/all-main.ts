/**
 * `main.js all`: the whole picture in one command. Runs the RPC matrix, then the raw echo matrix
 * (with the C floor), under one progress bar over every run; prints the side-by-side tables;
 * writes `results.json` (every run, the medians and ratios, the machine and the exact command),
 * `report.html` and the SVG charts into `--out`; and, when `--out` is the default
 * (apps/bench/results/latest, the committed picture), rewrites the READMEs' "where it stands"
 * sections from it.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { kEchoImplementations, wantsHelp } from '@netpoll/app-echo';
import { type BenchCommand, parseBenchCommand } from './commands';
import type { RunResult } from './echo-bench';
import { kCImplementation, kScenarios, runOnce } from './echo-bench';
import { echoPlan, echoRunLine, echoRunOptions } from './echo-main';
import { commandLine, describeMachine, machineLine } from './machine';
import { createProgress } from './progress';
import { summarize } from './report';
import { kLatestDir, kResultsName, updateReadmes, writeReport } from './report-main';
import { type BenchResults, formatJson, kResultsFormat } from './results';
import { type RpcRunResult, runRpcOnce } from './rpc-bench';
import { canPin, pinSelf } from './rpc-children';
import { kRpcStacks, parseRpcCommand, type RpcCommand } from './rpc-commands';
import { rpcPlan, rpcRunLine, rpcRunOptions } from './rpc-main';
import { rpcRatios, rpcTargets, summarizeRpc } from './rpc-report';
import { renderSideBySide } from './summary-text';

/** The RPC stacks `all` runs by default: the starter first, every stack of `main.js rpc`. */
export const kAllStacks = ['starter', ...kRpcStacks.filter((stack) => stack !== 'starter')];
export const kAllImplementations = [kCImplementation, ...kEchoImplementations];

export const kAllUsage = `usage: main.js all [--only rpc|echo] [--repeats N] [--duration MS] [--warmup MS]
                   [--payload BYTES] [--stacks LIST] [--callers LIST] [--connections N]
                   [--impls LIST] [--scenarios LIST] [--out DIR]
       main.js all --help

Runs the RPC benchmark (main.js rpc) and then the raw echo benchmark (main.js)
in one go, with one progress bar over every run (a bar on a terminal, plain
lines otherwise); prints the side-by-side tables; writes results.json (every
run, medians, ratios, the machine, the exact command), report.html and the
SVG charts into --out. With the default --out it also rewrites the "where it
stands" sections of README.md and apps/bench/README.md. A bad flag exits 2.

  --only rpc|echo     run one of the two matrices only
  --repeats N         runs of every pair, as in main.js/main.js rpc (default 3)
  --duration MS       measured window of every run (default 3000)
  --warmup MS         unmeasured load before each window (default 1000)
  --payload BYTES     payload of every call and frame (default 1024)
  --stacks LIST       RPC stacks (default ${kAllStacks.join(',')})
  --callers LIST      RPC caller counts (default 100,1000)
  --connections N     client connections of the mux-style RPC clients (default 4)
  --impls LIST        echo servers (default ${kAllImplementations.join(',')}; c: the C floor)
  --scenarios LIST    echo scenarios (default 0,1,2: ${kScenarios.map((scenario) => scenario.name).join('; ')})
  --out DIR           where to write (default apps/bench/results/latest)
  --help, -h          print this and exit 0`;

export interface AllCommand {
  readonly rpc: RpcCommand | null;
  readonly echo: BenchCommand | null;
  readonly out: string;
}

/** Parses `main.js all` flags; throws an error naming the flag. */
export function parseAllCommand(argv: readonly string[]): AllCommand {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      only: { type: 'string' },
      repeats: { type: 'string', default: '3' },
      duration: { type: 'string', default: '3000' },
      warmup: { type: 'string', default: '1000' },
      payload: { type: 'string', default: '1024' },
      stacks: { type: 'string', default: kAllStacks.join(',') },
      callers: { type: 'string', default: '100,1000' },
      connections: { type: 'string', default: '4' },
      impls: { type: 'string', default: kAllImplementations.join(',') },
      scenarios: { type: 'string', default: '0,1,2' },
      out: { type: 'string' },
    },
  });
  if (values.only !== undefined && values.only !== 'rpc' && values.only !== 'echo') {
    throw new RangeError(`--only must be rpc or echo (received ${values.only})`);
  }
  if (values.out === '')
    throw new RangeError('--out must name a directory (received an empty value)');
  const shared = [
    '--repeats',
    values.repeats,
    '--duration',
    values.duration,
    '--warmup',
    values.warmup,
  ];
  shared.push('--payload', values.payload);
  return {
    rpc:
      values.only === 'echo'
        ? null
        : parseRpcCommand([
            ...shared,
            ...['--stacks', values.stacks, '--callers', values.callers],
            ...['--connections', values.connections],
          ]),
    echo:
      values.only === 'rpc'
        ? null
        : parseBenchCommand([...shared, '--impls', values.impls, '--scenarios', values.scenarios]),
    out: resolve(values.out ?? kLatestDir),
  };
}

const withoutJson = <T extends { readonly json: string | undefined }>({ json: _, ...rest }: T) =>
  rest;

/** Runs `main.js all ARGS`; sets process.exitCode. */
export async function allMain(argv: readonly string[]): Promise<void> {
  if (wantsHelp(argv)) {
    process.stdout.write(`${kAllUsage}\n`);
    return;
  }
  let command: AllCommand;
  try {
    command = parseAllCommand(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${kAllUsage}\n`);
    process.exitCode = 2;
    return;
  }
  const pinned = canPin();
  // The bench itself stays off the servers' CPU.
  if (pinned) pinSelf(1);
  const rpcRuns = command.rpc === null ? [] : rpcPlan(command.rpc);
  const echoRuns = command.echo === null ? [] : echoPlan(command.echo);
  // Builds (the C++ load generator, the C server) before the clock and the bar start.
  const rpcOptions = command.rpc === null ? null : rpcRunOptions(command.rpc, pinned);
  const echoOptions = command.echo === null ? null : echoRunOptions(command.echo);
  const machine = describeMachine(pinned);
  const text = commandLine(['all', ...argv]);
  process.stderr.write(
    `${text}\n${machineLine(machine)}\n${rpcRuns.length} RPC runs and ${echoRuns.length} echo runs\n`,
  );
  const started = new Date();
  const progress = createProgress(rpcRuns.length + echoRuns.length);
  const rpcResults: RpcRunResult[] = [];
  const echoResults: RunResult[] = [];
  try {
    for (const run of rpcRuns) {
      progress.starting(`rpc ${run.stack}, ${run.callers} callers (repeat ${run.repeat})`);
      const result = await runRpcOnce(run.stack, run.callers, rpcOptions!);
      rpcResults.push(result);
      progress.done(`rpc ${rpcRunLine(result)}`);
    }
    for (const run of echoRuns) {
      progress.starting(`echo ${run.implementation}, ${run.scenario.name} (repeat ${run.repeat})`);
      const result = await runOnce(run.implementation, run.scenario, echoOptions!);
      echoResults.push(result);
      progress.done(`echo ${echoRunLine(result)}`);
    }
  } finally {
    progress.stop();
  }
  machine.loadAverageAtEnd = loadavg();
  const finished = new Date();
  let results: BenchResults;
  {
    const rpcSummaries = summarizeRpc(rpcResults);
    const ratios = rpcRatios(rpcSummaries);
    results = {
      format: kResultsFormat,
      command: text,
      argv: process.argv,
      cwd: process.cwd(),
      machine,
      started: started.toISOString(),
      finished: finished.toISOString(),
      elapsedMs: finished.getTime() - started.getTime(),
      rpc:
        command.rpc === null
          ? null
          : {
              options: withoutJson(command.rpc),
              runs: rpcResults,
              summaries: rpcSummaries,
              ratios,
              targets: rpcTargets(ratios, rpcSummaries, command.rpc.payloadSize),
            },
      echo:
        command.echo === null
          ? null
          : {
              options: withoutJson(command.echo),
              runs: echoResults,
              summaries: summarize(echoResults),
            },
    };
  }
  process.stdout.write(`${renderSideBySide(results)}\n`);
  const resultsPath = join(command.out, kResultsName);
  const reportPath = writeReport(results, command.out);
  writeFileSync(resultsPath, formatJson(results));
  const shown = (path: string) => relative(process.cwd(), path) || '.';
  process.stdout.write(
    `\n${rpcRuns.length + echoRuns.length} runs in ${(results.elapsedMs / 60_000).toFixed(1)} min; ` +
      `load average ${machine.loadAverageAtEnd.map((value) => value.toFixed(2)).join(' ')} at the end\n` +
      `results: ${shown(resultsPath)}\n`,
  );
  if (command.out === resolve(kLatestDir)) {
    const changed = updateReadmes(resultsPath);
    if (changed.length > 0) {
      process.stdout.write(`rewrote "where it stands" in ${changed.map(shown).join(', ')}\n`);
    }
  }
  process.stdout.write(`report: ${shown(reportPath)}\n`);
}
