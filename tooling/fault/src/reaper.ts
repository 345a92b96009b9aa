/**
 * `node reaper.js <ownerPid> <prefix>`: started detached by Network.create, it removes the
 * namespaces named `prefix…` and kills what runs in them once the owner process is gone —
 * also after a SIGKILL or a CI time limit, when no cleanup of the owner runs. It exits once
 * the owner is gone, or once the owner removed the namespaces itself.
 */
import { ourNamespaces, removePrefix } from './network';

const owner = Number(process.argv[2]);
const prefix = process.argv[3] ?? '';
const startedAt = Date.now();
let seen = false;

function ownerAlive(): boolean {
  try {
    process.kill(owner, 0);
    return true;
  } catch {
    return false;
  }
}

if (!prefix.startsWith('npf-') || !Number.isInteger(owner)) process.exit(2);

const timer = setInterval(() => {
  const present = ourNamespaces().some((name) => name.startsWith(prefix));
  seen ||= present;
  if (!ownerAlive()) {
    removePrefix(prefix);
    clearInterval(timer);
    return;
  }
  // Removed by the owner, or never made (creation failed): nothing left to watch.
  if ((seen && !present) || (!seen && Date.now() - startedAt > 60_000)) clearInterval(timer);
}, 500);
