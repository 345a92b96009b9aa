/** What a results file says about where and how it was measured: the machine and the command. */
import { cpus, loadavg, release } from 'node:os';
import { relative } from 'node:path';

/** The machine a run was measured on. */
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

export function describeMachine(pinned: boolean): MachineDescription {
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

/** One line about the machine, for the console and the report. */
export function machineLine(machine: MachineDescription): string {
  const load = (values: readonly number[]) => values.map((value) => value.toFixed(2)).join(' ');
  return (
    `${machine.cpuModel}, ${machine.cores} CPUs, Node ${machine.node}, Linux ${machine.kernel}, ` +
    `load average ${load(machine.loadAverageAtStart)}` +
    `${machine.loadAverageAtEnd === undefined ? '' : ` (${load(machine.loadAverageAtEnd)} at the end)`}, ` +
    `${machine.pinned ? 'servers on CPU 0, clients on CPU 1' : 'not pinned'}`
  );
}

/** `word` quoted for a POSIX shell when it needs to be. */
export const shellWord = (word: string): string =>
  /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;

/** The command this process runs, as typed from the current directory: `node apps/…/main.js …`. */
export function commandLine(argv: readonly string[] = process.argv.slice(2)): string {
  return ['node', relative(process.cwd(), process.argv[1]!) || '.', ...argv]
    .map(shellWord)
    .join(' ');
}
