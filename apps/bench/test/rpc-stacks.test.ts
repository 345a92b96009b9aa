import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { afterTest, closeAfterTest } from '@netpoll/jest-config/cleanup';
import { type EchoCaller, runCallers } from '../src/rpc-client';
import { GrpcEchoClient, startGrpcEchoServer } from '../src/rpc-grpc';
import { NetRpcClient, NetRpcPool, startNetRpcServer } from '../src/rpc-net';
import {
  NetpollEchoClient,
  type NetpollTransport,
  startNetpollEchoServer,
} from '../src/rpc-netpoll';
import { kServerKinds, startRpcServer } from '../src/rpc-server';
import { messageOf, StarterEchoClient, startStarterServer } from '../src/rpc-starter';

// The net and grpc stacks in this process: their servers answer calls byte for byte, and the
// callers loop checks every reply.

const kSizes = [0, 1, 1024, 70_000, 300_000];

async function openNet(handler = (request: Buffer) => request) {
  const server = closeAfterTest(await startNetRpcServer(handler));
  const client = closeAfterTest(await NetRpcClient.connect(server.address, 4));
  return { server, client };
}

async function openNetPool() {
  const server = closeAfterTest(await startNetRpcServer((request) => request));
  const client = closeAfterTest(new NetRpcPool(server.address, 4));
  return { server, client };
}

async function openNetpoll(transport: NetpollTransport) {
  const server = closeAfterTest(await startNetpollEchoServer());
  const client = closeAfterTest(NetpollEchoClient.connect(server.address, transport));
  return { server, client };
}

async function openGrpc() {
  const server = closeAfterTest(await startGrpcEchoServer());
  const client = closeAfterTest(await GrpcEchoClient.connect(server.address));
  return { server, client };
}

describe.each([
  ['net', () => openNet()],
  ['net-pool', openNetPool],
  ['grpc', openGrpc],
  ['netpoll-mux', () => openNetpoll({ transport: 'mux', connections: 4 })],
  ['netpoll-pool', () => openNetpoll({ transport: 'pool', pool: { maxActive: 4, maxIdle: 4 } })],
])('the %s stack', (_name, open) => {
  it('listens on 127.0.0.1 with a kernel-chosen port', async () => {
    const { server } = await open();
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(server.address).not.toBe('127.0.0.1:0');
  });

  it('answers concurrent calls of 0 to 300000 bytes byte for byte', async () => {
    const { client } = await open();
    const payloads = kSizes.flatMap((size) => [randomBytes(size), randomBytes(size)]);
    const replies = await Promise.all(
      payloads.map((payload) => client.call(payload, 5000, Buffer.allocUnsafe(payload.length))),
    );
    replies.forEach((reply, index) => {
      expect(Buffer.compare(reply, payloads[index]!)).toBe(0);
    });
  });

  it('runs callers that check every reply', async () => {
    const { client } = await open();
    const events: string[] = [];
    const result = await runCallers(
      client,
      { callers: 8, payloadSize: 1024, warmupMs: 20, durationMs: 200, timeoutMs: 5000 },
      (event) => events.push(event.event),
    );
    expect(events).toEqual(['start', 'end']);
    expect(result.calls).toBeGreaterThan(0);
    expect(result.errors).toBe(0);
    expect(result.mismatches).toBe(0);
    expect(result.firstError).toBeUndefined();
    expect(result.cpuMicros).toBeGreaterThan(0);
    // Allocation over the same window, per call that matched.
    expect(result.alloc.calls).toBe(result.calls);
    expect(result.alloc.heapBytesPerCall).toBeGreaterThan(0);
    expect(result.alloc.arrayBufferCalls).toBeLessThanOrEqual(result.calls);
  });
});

// The starter's calls run in its reactor thread, the C server's in its own process: neither has a
// per-call hook (both are tested below instead).
describe.each(kServerKinds.filter((kind) => kind !== 'starter' && kind !== 'c'))(
  'the %s server of rpc-server.js',
  (kind) => {
    it('counts every call it serves', async () => {
      let served = 0;
      const server = closeAfterTest(
        await startRpcServer(kind, () => {
          served += 1;
        }),
      );
      let client: EchoCaller;
      if (kind === 'net') client = await NetRpcClient.connect(server.address, 2);
      else if (kind === 'grpc') client = await GrpcEchoClient.connect(server.address);
      else client = NetpollEchoClient.connect(server.address, { transport: 'mux', connections: 2 });
      closeAfterTest(client);
      await Promise.all(
        Array.from({ length: 25 }, () =>
          client.call(randomBytes(100), 5000, Buffer.allocUnsafe(100)),
        ),
      );
      expect(served).toBe(25);
    });
  },
);

describe('the c server of rpc-server.js', () => {
  it('runs the C echo server as its own process, which returns every frame unchanged and ends at close', async () => {
    const server = await startRpcServer('c');
    let closed = false;
    afterTest(async () => {
      if (!closed) await server.close();
    });
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(server.pid).toEqual(expect.any(Number));
    expect(server.pid).not.toBe(process.pid);
    // Two frames as the C++ load sends them under --wire frame, in one write, then a third, then
    // one with the bench's largest payload (1 MiB and its id: over the server's default limit).
    const frame = (id: number, payload: Buffer) => {
      const bytes = Buffer.alloc(8 + payload.length);
      bytes.writeUInt32BE(4 + payload.length, 0);
      bytes.writeUInt32BE(id, 4);
      payload.copy(bytes, 8);
      return bytes;
    };
    const sent = [
      frame(1, randomBytes(1024)),
      frame(2, randomBytes(10)),
      frame(3, randomBytes(0)),
      frame(4, randomBytes(1 << 20)),
    ];
    const [host, port] = server.address.split(':');
    const socket = connect(Number(port), host);
    afterTest(() => socket.destroy());
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.write(Buffer.concat(sent.slice(0, 2)));
    socket.write(sent[2]!);
    socket.write(sent[3]!);
    const expected = Buffer.concat(sent);
    for (let waited = 0; Buffer.concat(received).length < expected.length && waited < 5000; ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      waited += 10;
    }
    expect(Buffer.concat(received).equals(expected)).toBe(true);
    await server.close();
    closed = true;
    expect(() => process.kill(server.pid!, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });
});

describe('the starter stack', () => {
  it("runs apps/echo's starter server and calls its JSON echo with the payload as ASCII text", async () => {
    const server = closeAfterTest(await startStarterServer());
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
    const client = closeAfterTest(StarterEchoClient.connect(server.address, 2));
    const payloads = [0, 1, 1024, 70_000].map((size) => randomBytes(size));
    const replies = await Promise.all(payloads.map((payload) => client.call(payload, 5000)));
    replies.forEach((reply, index) => {
      expect(reply).toBe(payloads[index]);
    });
    const events: string[] = [];
    const result = await runCallers(
      client,
      { callers: 8, payloadSize: 1024, warmupMs: 20, durationMs: 200, timeoutMs: 5000 },
      (event) => events.push(event.event),
    );
    expect(events).toEqual(['start', 'end']);
    expect(result.calls).toBeGreaterThan(0);
    expect(result.errors).toBe(0);
    expect(result.mismatches).toBe(0);
  }, 30_000);

  it('turns a payload into one ASCII character per byte', () => {
    const text = messageOf(Buffer.from([0, 1, 63, 64, 255]));
    expect(text).toBe('AB_A_');
    expect(messageOf(randomBytes(1024))).toMatch(/^[\w-]{1024}$/);
  });
});

/** A raw node:net server for the client's edge cases; `onFrames` sees every chunk's frames. */
async function rawServer(onData: (socket: Socket, chunk: Buffer) => void): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (chunk: Buffer) => onData(socket, chunk));
    socket.on('error', () => {});
  });
  server.listen({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  afterTest(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the net-pool stack', () => {
  it('gives each call a connection of its own, at most maxActive, and reuses them', async () => {
    const { client } = await openNetPool();
    const payloads = Array.from({ length: 10 }, () => randomBytes(512));
    const replies = await Promise.all(payloads.map((payload) => client.call(payload, 5000)));
    expect(replies.map((reply, index) => reply.equals(payloads[index]!))).toEqual(
      payloads.map(() => true),
    );
    expect(client.size).toBe(4);
    await client.call(Buffer.from('again'), 5000);
    expect(client.size).toBe(4);
  });

  it('replaces a connection the server closed', async () => {
    let first = true;
    const address = await rawServer((socket, chunk) => {
      if (first) {
        first = false;
        socket.destroy();
        return;
      }
      socket.write(chunk); // a frame is its own reply
    });
    const pool = closeAfterTest(new NetRpcPool(address, 1));
    await expect(pool.call(Buffer.from('x'), 5000)).rejects.toThrow('connection closed');
    const reply = await pool.call(Buffer.from('y'), 5000);
    expect(reply.toString()).toBe('y');
  });
});

describe('the net stack', () => {
  it('frames a call as [u32 length][u32 id][payload] and matches replies by id in any order', async () => {
    let received = Buffer.alloc(0);
    const address = await rawServer((socket, chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 2 * (8 + 3)) return;
      // Both calls are in: answer the second first.
      const first = received.subarray(0, 11);
      const second = received.subarray(11, 22);
      socket.write(Buffer.concat([second, first]));
    });
    const client = closeAfterTest(await NetRpcClient.connect(address, 1));
    const [a, b] = await Promise.all([
      client.call(Buffer.from('abc'), 5000),
      client.call(Buffer.from('xyz'), 5000),
    ]);
    expect(a.toString()).toBe('abc');
    expect(b.toString()).toBe('xyz');
    expect(received.subarray(0, 11)).toEqual(
      Buffer.from([0, 0, 0, 3, 0, 0, 0, 1, 0x61, 0x62, 0x63]),
    );
    expect(received.readUInt32BE(15)).toBe(2);
  });

  it('rejects a call that gets no reply within its timeout', async () => {
    const address = await rawServer(() => {});
    const client = closeAfterTest(await NetRpcClient.connect(address, 1));
    await expect(client.call(Buffer.from('x'), 50)).rejects.toThrow('timed out after 50 ms');
  });

  it('rejects the calls in flight on a connection that closes', async () => {
    const address = await rawServer((socket) => socket.destroy());
    const client = closeAfterTest(await NetRpcClient.connect(address, 1));
    await expect(client.call(Buffer.from('x'), 5000)).rejects.toThrow('connection closed');
  });

  it('counts mismatched replies in the callers loop', async () => {
    const { client } = await openNet((request) => {
      const reply = Buffer.from(request);
      if (reply.length > 0) reply[0]! ^= 1;
      return reply;
    });
    const result = await runCallers(
      client,
      { callers: 2, payloadSize: 16, warmupMs: 0, durationMs: 100, timeoutMs: 5000 },
      () => {},
    );
    expect(result.calls).toBe(0);
    expect(result.mismatches).toBeGreaterThan(0);
    expect(result.firstError).toBe('a reply of 16 bytes differs from its 16-byte request');
  });
});
