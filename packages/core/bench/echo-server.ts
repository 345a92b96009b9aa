/**
 * Benchmark echo server (child process of core.bench.ts): length-header echo on 127.0.0.1 with
 * `@netpoll/core` (native framing), an idiomatic `node:net` server (`net`) or a hand-optimised one
 * (`net-batched`: one write per read). Sends its port, answers
 * 'stats' messages over IPC with `getReactorStats()` (core), and exits on SIGTERM or when the
 * IPC channel to the bench closes. The C floor (bench/c-echo) is a separate executable.
 */
import { createServer, type Socket } from 'node:net';
import { createListener, EventLoop, getReactorStats } from '@netpoll/core';

const impl = process.argv[2] ?? 'core';

function startCore(): number {
  const loop = new EventLoop(
    (connection) => {
      // Native framing: the reader holds whole frames only, so everything buffered is echoed at
      // once; writeFrom shares the reader's slab regions with the writer (no copy, no view).
      const reader = connection.reader;
      connection.writer.writeFrom(reader, reader.len());
      connection.writer.flush();
    },
    { framing: { lengthHeader: 4, maxFrameSize: 1 << 20 } },
  );
  const listener = createListener('tcp', '127.0.0.1:0');
  void loop.serve(listener);
  return listener.port;
}

/**
 * node:net echo. Idiomatic: one `socket.write` per frame. Hand-optimised (`batched`): the complete
 * frames of one 'data' event leave in one write (they are contiguous in the chunk).
 */
function startNet(batched: boolean): Promise<number> {
  const server = createServer({ noDelay: true }, (socket: Socket) => {
    let pending: Buffer | null = null;
    socket.on('data', (chunk: Buffer) => {
      let data = pending === null ? chunk : Buffer.concat([pending, chunk]);
      let complete = 0;
      while (data.length - complete >= 4) {
        const total = 4 + data.readUInt32BE(complete);
        if (data.length - complete < total) break;
        if (!batched) socket.write(data.subarray(complete, complete + total));
        complete += total;
      }
      if (batched && complete > 0) socket.write(data.subarray(0, complete));
      data = data.subarray(complete);
      pending = data.length > 0 ? data : null;
    });
    socket.on('error', () => {});
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

async function main(): Promise<void> {
  const port = impl === 'core' ? startCore() : await startNet(impl === 'net-batched');
  process.on('message', (message: string) => {
    if (message === 'stats') process.send?.({ stats: impl === 'core' ? getReactorStats() : null });
  });
  // The bench stops this process with SIGTERM; if the bench itself dies, the IPC channel closes.
  process.on('disconnect', () => process.exit(0));
  process.send?.({ port });
}

void main();
