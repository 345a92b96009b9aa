import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EchoImplementation, EchoServer } from '../src/echo-server';
import type { EchoAddress } from '../src/listen-address';
import { startEchoServer } from '../src/start-echo-server';
import { FrameClient, frame } from './helpers/frame-client';

const kImplementations: readonly EchoImplementation[] = ['core', 'net', 'net-batched'];
const kTcp: EchoAddress = { network: 'tcp', host: '127.0.0.1', port: 0 };

describe.each(kImplementations)('echo server (%s)', (implementation) => {
  let server: EchoServer;

  afterEach(async () => {
    await server.close(1000);
  });

  it('answers every frame with an identical frame, in order, across odd chunk boundaries', async () => {
    server = await startEchoServer(implementation, kTcp, { maxFrameSize: 1 << 20 });
    const client = await FrameClient.connect(server.address);
    const frames = [0, 1, 7, 1024, 4096, 65_537, 300_000].map((size) => frame(randomBytes(size)));
    const stream = Buffer.concat(frames);
    // Dribble the stream in uneven pieces so headers and payloads straddle reads.
    for (let offset = 0, step = 1; offset < stream.length; offset += step, step = step * 3 + 1) {
      client.socket.write(stream.subarray(offset, offset + step));
    }
    const echoed = await client.receive(stream.length);
    expect(echoed.equals(stream)).toBe(true);
    client.socket.destroy();
  });

  it('serves a Unix socket', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'netpoll-echo-')), 'echo.sock');
    server = await startEchoServer(implementation, { network: 'unix', path }, { maxFrameSize: 64 });
    expect(server.address).toEqual({ network: 'unix', path });
    const client = await FrameClient.connect(server.address);
    const request = frame(Buffer.from('over a unix socket'));
    client.socket.write(request);
    expect((await client.receive(request.length)).equals(request)).toBe(true);
    client.socket.destroy();
  });

  it('closes only the connection whose header exceeds maxFrameSize', async () => {
    server = await startEchoServer(implementation, kTcp, { maxFrameSize: 1024 });
    const good = await FrameClient.connect(server.address);
    const bad = await FrameClient.connect(server.address);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1025, 0);
    bad.socket.write(header);
    await bad.closed;
    const request = frame(Buffer.alloc(1024, 0x5a));
    good.socket.write(request);
    expect((await good.receive(request.length)).equals(request)).toBe(true);
    good.socket.destroy();
  });
});
