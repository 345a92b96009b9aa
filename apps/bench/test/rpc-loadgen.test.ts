import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { afterTest } from '@netpoll/jest-config/cleanup';
import {
  ensureRpcLoadgen,
  type NativeLoadResult,
  type NativeLoadWire,
  nativeLoadArgs,
} from '../src/rpc-loadgen';
import { runProcess } from './helpers/run-cli';
import { startWireEchoServer, type WireMode } from './helpers/wire-echo-server';

// netpoll_rpc_loadgen against a wire-format echo server written in the test (not @netpoll/rpc):
// the requests it sends, and that it verifies every reply (payload, seq) byte for byte.

let loadgen: string;

beforeAll(() => {
  loadgen = ensureRpcLoadgen(); // cmake: configures once, then a no-op when up to date
}, 120_000);

interface LoadgenRun {
  readonly code: number | null;
  readonly events: Array<Record<string, unknown>>;
  readonly stderr: string;
}

async function runLoadgen(
  args: readonly string[],
  closeStdinAfterMs?: number,
): Promise<LoadgenRun> {
  // stdin stays a pipe: the load generator stops when it closes (the bench is gone).
  const run = await runProcess(loadgen, args, { stdin: 'pipe', closeStdinAfterMs });
  const events = run.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { code: run.code, events, stderr: run.stderr };
}

function args(
  port: number,
  overrides: Partial<Record<string, number>> = {},
  wire: NativeLoadWire = 'rpc',
): string[] {
  return nativeLoadArgs(
    {
      address: `127.0.0.1:${port}`,
      connections: 2,
      callers: 6,
      payloadSize: 1024,
      warmupMs: 50,
      // Calls count in this window only: long enough that a stalled test worker cannot empty it.
      durationMs: 1500,
      timeoutMs: 5000,
      ...overrides,
    },
    wire,
  );
}

interface NetFrame {
  /** The connection it came on, counted from 0. */
  readonly connection: number;
  readonly length: number;
  readonly id: number;
  readonly payload: Buffer;
}

/** The framings with a call id: `--wire net` and `--wire frame`. */
type IdWire = 'net' | 'frame';

/** Bytes of the id the length counts: none in net's framing, all 4 in a plain frame. */
const idInLength = (wire: IdWire): number => (wire === 'frame' ? 4 : 0);

/**
 * A server of an id framing written here: `[u32 payload length][u32 id][payload]` (`net`), or
 * `[u32 id + payload length][u32 id][payload]` (`frame`, what a length-header echo server
 * returns unchanged). It records every request and answers with `reply` (the request echoed
 * unless told otherwise).
 */
async function startIdFramingServer(
  wire: IdWire,
  reply: (frame: NetFrame) => Buffer = (frame) => idFrame(wire, frame.id, frame.payload),
): Promise<{ readonly port: number; readonly requests: NetFrame[] }> {
  const requests: NetFrame[] = [];
  let connections = 0;
  const server = createServer((socket) => {
    const connection = connections++;
    let buffered = Buffer.alloc(0);
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        if (buffered.length < 8) break;
        const length = buffered.readUInt32BE(0);
        const end = 8 + length - idInLength(wire);
        if (buffered.length < end) break;
        const frame = {
          connection,
          length,
          id: buffered.readUInt32BE(4),
          payload: Buffer.from(buffered.subarray(8, end)),
        };
        buffered = buffered.subarray(end);
        requests.push(frame);
        socket.write(reply(frame));
      }
    });
  });
  server.listen({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  afterTest(() => new Promise((resolve) => server.close(resolve)));
  return { port: (server.address() as AddressInfo).port, requests };
}

function idFrame(wire: IdWire, id: number, payload: Buffer): Buffer {
  const frame = Buffer.alloc(8 + payload.length);
  frame.writeUInt32BE(payload.length + idInLength(wire), 0);
  frame.writeUInt32BE(id, 4);
  payload.copy(frame, 8);
  return frame;
}

const resultOf = (run: LoadgenRun): NativeLoadResult =>
  run.events.find((event) => event.event === 'result') as unknown as NativeLoadResult;

describe('netpoll_rpc_loadgen', () => {
  it('sends REQUEST frames with the DEADLINE flag, method echo, its timeout and distinct 1 KiB payloads', async () => {
    const server = await startWireEchoServer('echo');
    const run = await runLoadgen(args(server.port, { timeoutMs: 4321 }));
    expect(run.code).toBe(0);
    expect(run.events.map((event) => event.event)).toEqual(['start', 'end', 'result']);
    expect(server.problems).toEqual([]);
    expect(server.requests.length).toBeGreaterThan(6);
    for (const request of server.requests) {
      expect(request.kindVersion).toBe(0x11); // version 1, REQUEST
      expect(request.flags).toBe(0x01); // DEADLINE only
      expect(request.method).toBe('echo');
      expect(request.timeout).toBe(4321);
      expect(request.payload.length).toBe(1024);
      expect(request.seq).not.toBe(0);
    }
    // Six callers, each with its own random payload.
    const payloads = new Set(server.requests.map((request) => request.payload.toString('hex')));
    expect(payloads.size).toBe(6);
    const result = resultOf(run);
    expect(result.calls).toBeGreaterThan(0);
    expect(result.errors).toBe(0);
    expect(result.mismatches).toBe(0);
    expect(result.elapsedMs).toBeGreaterThan(0);
    expect(result.p99Micros).toBeGreaterThanOrEqual(result.p50Micros);
    expect(result.cpuMicros).toBeGreaterThan(0);
    expect(result.peakRssBytes).toBeGreaterThan(0);
  });

  it.each<WireMode>(['reverse', 'metadata', 'ping'])(
    'matches replies by seq and accepts a %s server',
    async (mode) => {
      const server = await startWireEchoServer(mode);
      const run = await runLoadgen(args(server.port));
      expect(run.code).toBe(0);
      const result = resultOf(run);
      expect(result.mismatches).toBe(0);
      expect(result.errors).toBe(0);
      expect(result.calls).toBeGreaterThan(0);
      if (mode === 'ping') {
        // The PING was answered with a PONG carrying its seq and payload.
        expect(server.pongs).toEqual([{ seq: 77, payload: Buffer.from('pingpong') }]);
      }
    },
  );

  it('exits 1 and counts mismatches when replies differ from their requests', async () => {
    const server = await startWireEchoServer('corrupt');
    const run = await runLoadgen(args(server.port));
    expect(run.code).toBe(1);
    const result = resultOf(run);
    expect(result.mismatches).toBeGreaterThan(0);
    expect(result.calls).toBe(0);
    expect(run.stderr).toContain('differs from its request');
  });

  it('counts ERROR replies with their code', async () => {
    const server = await startWireEchoServer('error');
    const run = await runLoadgen(args(server.port, { warmupMs: 0 }));
    expect(run.code).toBe(0);
    const result = resultOf(run);
    expect(result.calls).toBe(0);
    expect(result.errors).toBeGreaterThan(0);
    expect(result.firstErrorCode).toBe('UNIMPLEMENTED');
  });

  it('exits 1 when it cannot connect', async () => {
    const run = await runLoadgen(['--port', '9', '--callers', '1', '--connections', '1']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('connect: ');
  });

  it('exits 1 when the server closes a connection', async () => {
    const server = createServer((socket) => socket.on('data', () => socket.destroy()));
    server.listen({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    afterTest(() => new Promise((resolve) => server.close(resolve)));
    const { port } = server.address() as AddressInfo;
    const run = await runLoadgen(args(port));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('the server closed a connection');
  });

  it('exits 3 when its stdin closes (the bench is gone)', async () => {
    const server = await startWireEchoServer('echo');
    const run = await runLoadgen(args(server.port, { durationMs: 600_000 }), 200);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('stdin closed');
  });

  // net: the `net` stack's framing; frame: plain length-header frames, which the C echo server
  // returns unchanged (the length also counts the id).
  describe.each<IdWire>(['net', 'frame'])('with --wire %s', (wire) => {
    it('sends [length][id][payload] frames, a new id per call, and checks each echo', async () => {
      const server = await startIdFramingServer(wire);
      const run = await runLoadgen(args(server.port, {}, wire));
      expect(run.code).toBe(0);
      expect(run.events.map((event) => event.event)).toEqual(['start', 'end', 'result']);
      expect(server.requests.length).toBeGreaterThan(6);
      for (const request of server.requests) {
        expect(request.length).toBe(1024 + idInLength(wire));
        expect(request.payload.length).toBe(1024);
      }
      // Ids count per connection and are not reused: every call has its own on its connection,
      // and both connections carried calls.
      const keys = server.requests.map((request) => `${request.connection}:${request.id}`);
      expect(new Set(keys).size).toBe(server.requests.length);
      expect(new Set(server.requests.map((request) => request.connection))).toEqual(
        new Set([0, 1]),
      );
      const payloads = new Set(server.requests.map((request) => request.payload.toString('hex')));
      expect(payloads.size).toBe(6);
      const result = resultOf(run);
      expect(result.calls).toBeGreaterThan(0);
      expect(result.mismatches).toBe(0);
      expect(result.errors).toBe(0);
    });

    it.each<[string, (payload: Buffer) => Buffer, string]>([
      [
        'its last byte differs',
        (payload) => {
          const changed = Buffer.from(payload);
          changed[changed.length - 1]! ^= 0xff;
          return changed;
        },
        '(1024 payload bytes, 1024 expected)',
      ],
      [
        'it is one byte short',
        (payload) => payload.subarray(0, payload.length - 1),
        '(1023 payload bytes, 1024 expected)',
      ],
    ])(
      'exits 1 and counts mismatches when a reply differs from its request: %s',
      async (_what, change, message) => {
        const server = await startIdFramingServer(wire, (frame) =>
          idFrame(wire, frame.id, change(frame.payload)),
        );
        const run = await runLoadgen(args(server.port, {}, wire));
        expect(run.code).toBe(1);
        expect(resultOf(run).mismatches).toBeGreaterThan(0);
        expect(resultOf(run).calls).toBe(0);
        expect(run.stderr).toContain('differs from its request');
        expect(run.stderr).toContain(message);
      },
    );

    it('exits 1 on a reply to an id not in flight', async () => {
      const server = await startIdFramingServer(wire, (frame) =>
        idFrame(wire, frame.id + 1000, frame.payload),
      );
      const run = await runLoadgen(args(server.port, {}, wire));
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('a reply to no request in flight');
    });
  });

  it.each([
    [['--port', '1', '--wire', 'http'], '--wire must be rpc, net or frame'],
    [['--port', '0'], '--port must be an integer from 1 to 65535 (received 0)'],
    [
      ['--port', '1', '--callers', 'x'],
      '--callers must be an integer from 1 to 100000 (received x)',
    ],
    [['--port', '1', '--payload', '1048577'], '--payload must be an integer from 0 to 1048576'],
    [
      ['--port', '1', '--connections', '5', '--callers', '4'],
      '--callers must be at least --connections',
    ],
    [['--callers', '4'], '--port is required'],
    [['--port', '1', '--bogus', '1'], 'unknown flag --bogus'],
  ])('exits 2 naming the flag for %j', async (flags, message) => {
    const run = await runLoadgen(flags);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.events).toEqual([]);
  });
});
