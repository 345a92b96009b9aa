import { readdirSync } from 'node:fs';

/** Open descriptors of this process (Linux /proc; macOS /dev/fd). */
export function openFdCount(): number {
  const folder = process.platform === 'linux' ? '/proc/self/fd' : '/dev/fd';
  return readdirSync(folder).length;
}
