/**
 * The results file of `main.js all`: every run of the RPC and echo matrices, their medians and
 * ratios, the machine and the exact command. The report (HTML and SVG charts) and the root
 * README's "Where it stands" section are rendered from it alone, so `main.js report` and
 * `main.js readme` redraw them from a saved file without running anything.
 */
import { readFileSync } from 'node:fs';
import type { BenchCommand } from './commands';
import type { RunResult } from './echo-bench';
import type { MachineDescription } from './machine';
import type { Summary } from './report';
import type { RpcRunResult } from './rpc-bench';
import type { RpcCommand } from './rpc-commands';
import type { RpcRatio, RpcSummary, RpcTarget } from './rpc-report';

export const kResultsFormat = 'netpoll-bench-results/1';

export interface EchoResults {
  readonly options: Omit<BenchCommand, 'json'>;
  readonly runs: readonly RunResult[];
  readonly summaries: readonly Summary[];
}

export interface RpcResults {
  readonly options: Omit<RpcCommand, 'json'>;
  readonly runs: readonly RpcRunResult[];
  readonly summaries: readonly RpcSummary[];
  readonly ratios: readonly RpcRatio[];
  readonly targets: readonly RpcTarget[];
}

export interface BenchResults {
  readonly format: typeof kResultsFormat;
  /** The command as typed from `cwd`. */
  readonly command: string;
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly machine: MachineDescription;
  /** ISO dates. */
  readonly started: string;
  readonly finished: string;
  /** Wall time of the whole matrix, ms. */
  readonly elapsedMs: number;
  readonly rpc: RpcResults | null;
  readonly echo: EchoResults | null;
}

/** Reads and checks a results file; throws an error naming the file and what is wrong. */
export function readResults(path: string): BenchResults {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: cannot read it as JSON (${(error as Error).message})`);
  }
  const results = value as Partial<BenchResults> | null;
  if (results?.format !== kResultsFormat) {
    throw new Error(
      `${path}: not a results file of main.js all (format ${JSON.stringify(results?.format)}, expected ${kResultsFormat})`,
    );
  }
  for (const key of ['command', 'machine', 'started', 'finished'] as const) {
    if (results[key] === undefined) throw new Error(`${path}: "${key}" is missing`);
  }
  if (results.rpc == null && results.echo == null) {
    throw new Error(`${path}: has neither RPC nor echo results`);
  }
  return { ...results, rpc: results.rpc ?? null, echo: results.echo ?? null } as BenchResults;
}

const kLineWidth = 100;

/**
 * JSON as biome formats it (the repository's formatter checks committed JSON): two-space indent,
 * objects one key per line, arrays of plain values on one line when that fits in 100 columns and
 * one value per line otherwise, arrays of objects one per line. Ends with a newline.
 */
export function formatJson(value: unknown): string {
  return `${format(value, '', 0)}\n`;
}

function format(value: unknown, indent: string, prefix: number): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const plain = value.every((item) => item === null || typeof item !== 'object');
    if (plain) {
      const line = `[${value.map((item) => JSON.stringify(item ?? null)).join(', ')}]`;
      if (indent.length + prefix + line.length + 1 <= kLineWidth) return line;
    }
    return `[\n${value.map((item) => `${inner}${format(item, inner, 0)}`).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value).filter(([, item]) => item !== undefined);
  if (entries.length === 0) return '{}';
  return `{\n${entries
    .map(([key, item]) => {
      const head = `${JSON.stringify(key)}: `;
      return `${inner}${head}${format(item, inner, head.length)}`;
    })
    .join(',\n')}\n${indent}}`;
}
