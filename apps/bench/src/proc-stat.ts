import { readFileSync } from 'node:fs';

const kClockTicksPerSecond = 100;

/** A process's CPU time so far (all threads), in microseconds, from /proc/PID/stat. */
export function processCpuTimes(pid: number): {
  readonly userMicros: number;
  readonly systemMicros: number;
} {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    userMicros: (Number(fields[11]) * 1e6) / kClockTicksPerSecond,
    systemMicros: (Number(fields[12]) * 1e6) / kClockTicksPerSecond,
  };
}

/** CPU time (user + system) a process has used so far, in microseconds. */
export function processCpuMicros(pid: number): number {
  const { userMicros, systemMicros } = processCpuTimes(pid);
  return userMicros + systemMicros;
}

/** Peak resident set size of a process so far (VmHWM), in bytes. */
export function peakRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  if (match === null) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}
