import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterTest } from '@netpoll/jest-config/cleanup';
import { sampleServer, stopServer } from '../src/rpc-bench';
import { type BenchChild, forkChild, liveChildren, spawnChild } from '../src/rpc-children';

// The RPC bench's children on their way out: a request to a server whose IPC channel closed
// before its exit was seen fails that request (it must not be an 'error' event nobody hears: an
// uncaught exception that ends the bench, as on SIGINT when the client's exit is seen first).

const kFixture = join(__dirname, 'fixtures', 'ipc-child.js');

async function startServer(): Promise<BenchChild> {
  const server = forkChild('ipc child', kFixture, [], null);
  afterTest(async () => {
    server.process.kill('SIGKILL');
    await server.exited;
  });
  await server.nextEvent('ready', 10_000);
  return server;
}

/**
 * Blocks (this thread's loop cannot see the exit meanwhile) until `pid` is dead with every
 * descriptor closed: a zombie with no thread left but its leader (which turns zombie first, while
 * the other threads may still hold the descriptors they share).
 */
function waitUntilDead(pid: number): void {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; waited < 10_000; waited++) {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    if (/^State:\s+Z/m.test(status) && /^Threads:\s+1$/m.test(status)) return;
    Atomics.wait(sleeper, 0, 0, 1);
  }
  throw new Error(`${pid} did not die`);
}

describe("the RPC bench's child processes", () => {
  it('samples a server and stops it with its stop request', async () => {
    const server = await startServer();
    await expect(sampleServer(server)).resolves.toEqual({ event: 'sample', cpuMicros: 1 });
    await expect(stopServer(server)).resolves.toBe(0);
  });

  it('SIGKILLs a server whose channel closed before its exit was seen, when asked to stop', async () => {
    const server = await startServer();
    // As a server on its way out: the channel is gone, the exit not yet seen.
    server.process.disconnect();
    expect(server.process.exitCode).toBeNull();
    await expect(stopServer(server)).resolves.toBe('SIGKILL');
  });

  it('fails a sample of a server that died before its exit was seen', async () => {
    const server = await startServer();
    server.process.kill('SIGKILL');
    // Dead, its end of the channel closed; its exit and the channel's end not seen here yet.
    waitUntilDead(server.pid);
    expect(server.process.connected).toBe(true);
    await expect(sampleServer(server)).rejects.toThrow(
      /^ipc child: sample request not sent: write EPIPE$/,
    );
    await expect(server.exited).resolves.toBe('SIGKILL');
  });

  it('ends the waits on a child that could not be started at once', async () => {
    const child = spawnChild('missing', join(__dirname, 'no-such-program'), [], null);
    await expect(child.exited).resolves.toMatch(/^not started: spawn .*no-such-program ENOENT$/);
    await expect(child.nextEvent('start', 10_000)).rejects.toThrow(
      /^missing exited \(not started: .*\) before "start"$/,
    );
    expect(liveChildren()).toBe(0);
  });
});
