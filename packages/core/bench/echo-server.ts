/**
 * Benchmark echo server (child process of core.bench.ts): length-header echo on 127.0.0.1 with
 * `@netpoll/core` (native framing) or an idiomatic `node:net` server. Prints its port, answers
 * 'stats' messages over IPC with `getReactorStats()` (core) and exits on 'stop'.
 */
import { createServer, type Socket } from 'node:net';
import { createListener, EventLoop, getReactorStats } from '@netpoll/core';

const impl = process.argv[2] ?? 'core';

function startCore(): number {
  const loop = new EventLoop(
    (connection) => {
      const reader = connection.reader;
      const writer = connection.writer;
      // Native framing: the reader holds whole frames only.
      while (reader.len() >= 4) {
        const length = reader.peek(4).readUInt32BE(0);
        writer.writeBinary(reader.next(4 + length));
      }
      writer.flush();
    },
    { framing: { lengthHeader: 4, maxFrameSize: 1 << 20 } },
  );
  const listener = createListener('tcp', '127.0.0.1:0');
  void loop.serve(listener);
  return listener.port;
}

function startNet(): Promise<number> {
  const server = createServer({ noDelay: true }, (socket: Socket) => {
    let pending: Buffer | null = null;
    socket.on('data', (chunk: Buffer) => {
      let data = pending === null ? chunk : Buffer.concat([pending, chunk]);
      while (data.length >= 4) {
        const total = 4 + data.readUInt32BE(0);
        if (data.length < total) break;
        socket.write(data.subarray(0, total));
        data = data.subarray(total);
      }
      pending = data.length > 0 ? data : null;
    });
    socket.on('error', () => {});
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

async function main(): Promise<void> {
  const port = impl === 'net' ? await startNet() : startCore();
  process.on('message', (message: string) => {
    if (message === 'stats') {
      process.send?.({ stats: impl === 'core' ? getReactorStats() : null });
    } else if (message === 'stop') {
      process.exit(0);
    }
  });
  process.send?.({ port });
}

void main();
