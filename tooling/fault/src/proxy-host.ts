/**
 * A delaying TCP proxy: `node proxy-host.js --listen ip:port --upstream ip:port`, run inside
 * the slow host's namespace in front of its server (this kernel has no netem). Every chunk, in
 * each direction, is held for `delay ± jitter` ms (set over IPC: `delay { meanMs, jitterMs }`);
 * chunks never overtake each other, so the byte stream stays in order.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { announceReady, parseArgs, serveHarness } from './host-ipc';

let meanMs = 0;
let jitterMs = 0;

function holdMs(): number {
  return meanMs === 0 ? 0 : Math.max(0, meanMs + (Math.random() * 2 - 1) * jitterMs);
}

/** Forwards `from` to `to`, each chunk released no earlier than the one before it. */
function forward(from: Socket, to: Socket): void {
  let releaseAt = 0;
  const later = (action: () => void): void => {
    const now = performance.now();
    releaseAt = Math.max(releaseAt, now + holdMs());
    if (releaseAt <= now) action();
    else setTimeout(action, releaseAt - now);
  };
  from.on('data', (chunk) => later(() => to.destroyed || to.write(chunk)));
  from.on('end', () => later(() => to.end()));
  from.on('error', () => to.destroy());
  from.on('close', () => later(() => to.destroy()));
}

const args = parseArgs(process.argv.slice(2));
const [upHost, upPort] = (args.upstream ?? '').split(':');
const [host, port] = (args.listen ?? '').split(':');
const server = createServer((client) => {
  const upstream = createConnection({ host: upHost, port: Number(upPort) });
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  forward(client, upstream);
  forward(upstream, client);
});
server.listen({ host, port: Number(port) }, () => {
  serveHarness({
    delay: (body) => {
      const settings = body as { meanMs: number; jitterMs: number };
      meanMs = settings.meanMs;
      jitterMs = settings.jitterMs;
      return { meanMs, jitterMs };
    },
  });
  announceReady({ address: args.listen });
});
