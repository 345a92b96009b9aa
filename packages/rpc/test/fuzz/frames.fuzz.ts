/**
 * Long-running property tests of everything that reads the wire format from a peer, for a
 * bounded time: `NETPOLL_FUZZ_SECONDS` (default 60) shared by the three properties below, each
 * running as many cases as fit in its share. Not part of `pnpm test` (the jest config only runs
 * `*.test.ts`); `pnpm --filter @netpoll/rpc fuzz` runs them (jest.fuzz.config.js).
 *
 * Inputs are arbitrary bytes, and streams of valid frames of every kind (1-, 2- and 4-byte length
 * headers) with mutations: bit flips, bytes overwritten, inserted and deleted, ranges duplicated,
 * length headers rewritten, truncation.
 *
 * 1. decodeHeader / decodeMessage on each frame the native framing would cut from such a stream:
 *    decodes or throws RpcError ERR_NETPOLL_RPC_PROTOCOL, never another error; reads only the
 *    frame (decoded from an exact-size Buffer and from inside random padding, same outcome, every
 *    offset inside the body); an unmutated stream round-trips, deep-equal.
 * 2. A real server (lengthHeader 1, 2 and 4, maxFrameSize 4096) fed such a stream over TCP in
 *    random chunks: it answers with well-formed frames only, answers every request of an
 *    unmutated stream (echo), closes the connection after the peer's EOF (never hangs), counts
 *    only the errors a bad peer can cause, and keeps serving.
 * 3. A real client whose server answers such a stream: every call settles (never hangs), with
 *    the reply, or with ERR_NETPOLL_RPC_PROTOCOL, _REMOTE, _UNAVAILABLE or _TIMEOUT, never
 *    another error; an unmutated stream of replies resolves every call with its payload.
 */
import { createServer as createNetServer, type Server, Socket } from 'node:net';
import fc from 'fast-check';
import {
  createClient,
  createServer,
  decodeMessage,
  encodeMessage,
  isNetpollError,
  Kind,
  type LengthHeader,
  type Message,
  RpcError,
  type RpcServer,
} from '../../src';
import { decodeHeader, MessageHeader } from '../../src/protocol/decode';
import { messageFor } from '../helpers/arbitraries';
import { FrameAccumulator } from '../helpers/frames';
import { bodySize, chunks, framesOf, streamOf } from './streams';

const kSeconds = Number(process.env.NETPOLL_FUZZ_SECONDS ?? '60');
if (!(kSeconds > 0)) throw new Error(`NETPOLL_FUZZ_SECONDS must be a positive number: ${kSeconds}`);
/** Each property's share of the time, ms. */
const kShare = { decode: 0.4, server: 0.3, client: 0.3 };
const budget = (share: number) => Math.round(kSeconds * 1000 * share);
/** One case of a socket property that has not finished by then is a hang. */
const kCaseTimeout = 5000;
/** The frame limit of the servers and clients under test (below what a 4-byte header can say). */
const kMaxFrame = 4096;

const runs = { decode: 0, server: 0, client: 0 };

/**
 * Runs an async property in batches with fresh seeds until `ms` have passed. Every case has
 * kCaseTimeout, and the time limit only stops new batches: a case that hangs fails the test
 * whenever it starts (fast-check's interruptAfterTimeLimit would cut off a case still running at
 * the limit, and pass).
 */
async function assertFor<Ts extends [unknown, ...unknown[]]>(
  property: fc.IAsyncProperty<Ts>,
  ms: number,
): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    await fc.assert(property, { numRuns: 25, timeout: kCaseTimeout });
  }
}

afterAll(() => {
  // The line CI prints: how much each property did in its share.
  process.stdout.write(
    `rpc fuzz (${kSeconds} s): decode ${runs.decode} cases, server ${runs.server} cases, client ${runs.client} cases\n`,
  );
});

/** Is `error` an RpcError with one of `codes`? (The message says what else it was.) */
function expectRpcError(error: unknown, codes: readonly string[], what: string): void {
  if (error instanceof RpcError && isNetpollError(error) && codes.includes(error.code)) return;
  throw new Error(`${what}: ${String(error)} (code ${(error as RpcError)?.code}), not ${codes}`, {
    cause: error,
  });
}

// ---- 1. the decoder -------------------------------------------------------------------------------

type Outcome = { ok: true; fields: number[] } | { ok: false; message: string };

function decode(body: Buffer, start: number, end: number): Outcome {
  const h = new MessageHeader();
  try {
    decodeHeader(body, start, end, h);
  } catch (error) {
    expectRpcError(error, ['ERR_NETPOLL_RPC_PROTOCOL'], 'decodeHeader threw');
    return { ok: false, message: (error as Error).message };
  }
  // The fields of the kind, offsets relative to the body's start (both placements compare equal).
  const request = h.kind === Kind.REQUEST || h.kind === Kind.ONE_WAY;
  const fields = [h.kind, h.flags, h.seq, h.payloadStart - start, h.payloadEnd - start];
  if (request) fields.push(h.methodStart - start, h.methodLength, h.timeout);
  if (h.kind === Kind.ERROR) {
    fields.push(h.codeStart - start, h.codeLength, h.messageStart - start, h.messageLength);
  }
  const length = end - start;
  const inside = (from: number, size: number) => from >= 0 && size >= 0 && from + size <= length;
  const ok =
    h.payloadEnd - start === length &&
    inside(h.payloadStart - start, h.payloadEnd - h.payloadStart) &&
    (h.metadataStart < 0 ||
      (inside(h.metadataStart - start, h.metadataEnd - h.metadataStart) &&
        h.metadataEnd === h.payloadStart)) &&
    (!request || (h.methodLength > 0 && inside(h.methodStart - start, h.methodLength))) &&
    (h.kind !== Kind.ERROR
      ? true
      : h.codeLength > 0 &&
        inside(h.codeStart - start, h.codeLength) &&
        inside(h.messageStart - start, h.messageLength));
  if (!ok) throw new Error(`decodeHeader named bytes outside the body: ${JSON.stringify(h)}`);
  fields.push(h.metadataStart < 0 ? -1 : h.metadataStart - start);
  return { ok: true, fields };
}

describe(`the decoder on mutated streams (${budget(kShare.decode)} ms)`, () => {
  it(
    'decodes or throws ERR_NETPOLL_RPC_PROTOCOL, reading only the frame; valid streams round-trip',
    () => {
      const padding = fc.uint8Array({ minLength: 1, maxLength: 16 });
      fc.assert(
        fc.property(
          streamOf((h) => messageFor(h, bodySize)),
          padding,
          padding,
          (s, before, after) => {
            runs.decode++;
            const bodies = framesOf(s.bytes, s.lengthHeader, 2 ** (8 * s.lengthHeader) - 1);
            if (!s.mutated) {
              // A valid stream: every frame is one of the messages, deep-equal.
              const decoded = bodies.map((body) => decodeMessage(body));
              if (JSON.stringify(decoded) !== JSON.stringify(s.messages)) {
                expect(decoded).toEqual(s.messages);
              }
            }
            for (const body of bodies) {
              const exact = Buffer.from(body);
              const alone = decode(exact, 0, exact.length);
              const padded = Buffer.concat([before, body, after]);
              const inside = decode(padded, before.length, before.length + body.length);
              if (JSON.stringify(alone) !== JSON.stringify(inside)) expect(inside).toEqual(alone);
              if (alone.ok) {
                // What decodes as a header is a whole message too.
                const message = decodeMessage(exact);
                if (message.kind !== alone.fields[0]) expect(message.kind).toBe(alone.fields[0]);
              } else {
                expect(() => decodeMessage(exact)).toThrow(alone.message);
              }
            }
          },
        ),
        {
          numRuns: Number.MAX_SAFE_INTEGER,
          interruptAfterTimeLimit: budget(kShare.decode),
          markInterruptAsFailure: false,
        },
      );
    },
    budget(kShare.decode) + 60_000,
  );
});

// ---- 2. a real server -----------------------------------------------------------------------------

/** Requests a client sends: echo, an unknown method, one-way; pings and cancels. */
function requestMessage(lengthHeader: LengthHeader): fc.Arbitrary<Message> {
  const small = lengthHeader === 1 ? 40 : 300;
  return fc.oneof(
    fc.record({
      kind: fc.constantFrom(Kind.REQUEST, Kind.ONE_WAY),
      seq: fc.integer({ min: 1, max: 0xffffffff }),
      method: fc.constantFrom('echo', 'echo', 'echo', 'missing'),
      payload: fc.uint8Array({ maxLength: small }).map((a) => Buffer.from(a)),
    }),
    fc.record(
      {
        kind: fc.constant(Kind.REQUEST),
        seq: fc.integer({ min: 1, max: 0xffffffff }),
        method: fc.constant('echo'),
        timeout: fc.integer({ min: 1000, max: 0xffffffff }),
        metadata: fc.constant({ k: 'v' }),
        payload: fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a)),
      },
      { requiredKeys: ['kind', 'seq', 'method', 'payload'] },
    ),
    fc.record({
      kind: fc.constant(Kind.PING),
      seq: fc.nat(),
      payload: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
    }),
    fc.record({
      kind: fc.constant(Kind.CANCEL),
      seq: fc.integer({ min: 1, max: 0xffffffff }),
      payload: fc.constant(Buffer.alloc(0)),
    }),
  ) as fc.Arbitrary<Message>;
}

/** The errors a server may count for a peer that sends garbage. */
const kServerErrors = [
  'ERR_NETPOLL_RPC_PROTOCOL',
  'ERR_NETPOLL_FRAME_TOO_LARGE',
  'UNIMPLEMENTED',
  'DEADLINE_EXCEEDED',
];

/** Sends `parts` one per loop turn, ends the socket, and collects the reply bytes until close. */
function exchange(address: string, parts: Buffer[]): Promise<{ replies: Buffer; error?: Error }> {
  return new Promise((resolve) => {
    const colon = address.lastIndexOf(':');
    const socket = new Socket();
    const received: Buffer[] = [];
    let error: Error | undefined;
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', (cause: Error) => {
      error = cause;
    });
    socket.on('close', () => resolve({ replies: Buffer.concat(received), error }));
    socket.connect(Number(address.slice(colon + 1)), address.slice(0, colon), async () => {
      for (const part of parts) {
        if (socket.destroyed) return;
        socket.write(part);
        await new Promise((next) => setImmediate(next));
      }
      socket.end();
    });
  });
}

describe(`real servers fed mutated streams (${budget(kShare.server)} ms)`, () => {
  const servers = new Map<LengthHeader, RpcServer>();

  beforeAll(async () => {
    for (const lengthHeader of [1, 2, 4] as const) {
      const server = createServer(
        { echo: (request: Buffer) => Buffer.from(request) },
        { lengthHeader, maxFrameSize: Math.min(kMaxFrame, 2 ** (8 * lengthHeader) - 1) },
      );
      await server.listen('127.0.0.1:0');
      servers.set(lengthHeader, server);
    }
  });

  afterAll(async () => {
    for (const server of servers.values()) await server.close({ timeout: 1000 });
  });

  it(
    'answers well-formed frames only, every request of a valid stream, and closes after EOF',
    async () => {
      await assertFor(
        fc.asyncProperty(streamOf(requestMessage), async (s) => {
          runs.server++;
          const server = servers.get(s.lengthHeader)!;
          const { replies } = await exchange(server.address, chunks(s.bytes, s.cuts));
          // Whole, decodable frames of the kinds a server sends, answering what was asked.
          const accumulator = new FrameAccumulator(s.lengthHeader);
          const messages = accumulator.push(replies).map((body) => decodeMessage(body));
          expect(accumulator.pending).toBe(0);
          for (const message of messages) {
            expect([Kind.RESPONSE, Kind.ERROR, Kind.PONG]).toContain(message.kind);
          }
          if (!s.mutated) {
            // In order: a PONG per PING, a RESPONSE per echo request (its payload back), an
            // UNIMPLEMENTED error marked REFUSED per request for the missing method; nothing for
            // the rest.
            const expected = s.messages.flatMap(
              (m): Array<{ kind: number; seq: number; what: unknown }> => {
                if (m.kind === Kind.PING) return [{ kind: Kind.PONG, seq: m.seq, what: m.payload }];
                if (m.kind !== Kind.REQUEST) return [];
                return m.method === 'echo'
                  ? [{ kind: Kind.RESPONSE, seq: m.seq, what: m.payload }]
                  : [{ kind: Kind.ERROR, seq: m.seq, what: 'UNIMPLEMENTED REFUSED' }];
              },
            );
            const answered = messages.map((m) => ({
              kind: m.kind,
              seq: m.seq,
              what: m.kind === Kind.ERROR ? `${m.code}${m.refused ? ' REFUSED' : ''}` : m.payload,
            }));
            expect(answered).toEqual(expected);
          }
          const stats = await server.stats();
          for (const code of Object.keys(stats.calls.errors)) expect(kServerErrors).toContain(code);
        }),
        budget(kShare.server),
      );
      // Still serving after all of that.
      for (const [lengthHeader, server] of servers) {
        const frame = encodeMessage(
          { kind: Kind.REQUEST, seq: 7, method: 'echo', payload: Buffer.from('still here') },
          lengthHeader,
        );
        const { replies } = await exchange(server.address, [frame]);
        expect(decodeMessage(replies.subarray(lengthHeader)).payload.toString()).toBe('still here');
      }
    },
    budget(kShare.server) + kCaseTimeout + 60_000,
  );
});

// ---- 3. a real client -----------------------------------------------------------------------------

/** Replies a server sends: responses and errors for the client's seqs 1–3, pings, goaways. */
function replyMessage(lengthHeader: LengthHeader): fc.Arbitrary<Message> {
  const seq = fc.integer({ min: 1, max: 3 });
  const payload = fc
    .uint8Array({ maxLength: lengthHeader === 1 ? 40 : 200 })
    .map((a) => Buffer.from(a));
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant(Kind.RESPONSE), seq, payload }) },
    fc.record(
      {
        kind: fc.constant(Kind.ERROR),
        seq,
        // Not UNAVAILABLE: refused, it is sent again, and this server answers one stream only.
        code: fc.constantFrom('INTERNAL', 'NOT_FOUND', 'DEADLINE_EXCEEDED'),
        message: fc.string({ maxLength: 20 }),
        refused: fc.constant(true),
        payload: fc.constant(Buffer.alloc(0)),
      },
      { requiredKeys: ['kind', 'seq', 'code', 'message', 'payload'] },
    ),
    fc.record({ kind: fc.constantFrom(Kind.PING, Kind.PONG), seq: fc.nat(), payload }),
    fc.record({
      kind: fc.constant(Kind.GOAWAY),
      seq: fc.nat(3),
      payload: fc.constant(Buffer.alloc(0)),
    }),
  ) as fc.Arbitrary<Message>;
}

/** The errors a call may end with when its server sends garbage. */
const kCallErrors = [
  'ERR_NETPOLL_RPC_PROTOCOL',
  'ERR_NETPOLL_RPC_REMOTE',
  'ERR_NETPOLL_RPC_UNAVAILABLE',
  'ERR_NETPOLL_RPC_TIMEOUT',
];

describe(`a real client fed mutated replies (${budget(kShare.client)} ms)`, () => {
  let server: Server;
  let address = '';
  /** What the server answers the current case's connections (set per case). */
  let answer: Buffer[] = [];

  beforeAll(async () => {
    server = createNetServer((socket) => {
      socket.on('error', () => {});
      // The case's stream, once the first request arrived, then the server's EOF.
      socket.once('data', async () => {
        for (const part of answer) {
          if (socket.destroyed) return;
          socket.write(part);
          await new Promise((next) => setImmediate(next));
        }
        socket.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it(
    'settles every call with its reply or an RPC error, never another error',
    async () => {
      await assertFor(
        fc.asyncProperty(
          streamOf(replyMessage),
          fc.integer({ min: 1, max: 3 }),
          fc.boolean(),
          async (s, calls, deadline) => {
            runs.client++;
            answer = chunks(s.bytes, s.cuts);
            const client = createClient(address, {
              lengthHeader: s.lengthHeader,
              maxFrameSize: Math.min(kMaxFrame, 2 ** (8 * s.lengthHeader) - 1),
              connections: 1,
              // Without a deadline a call that never settles shows as a hang (the case's timeout).
              timeout: deadline ? 2000 : 0,
              pingInterval: 0,
            });
            try {
              const outcomes = await Promise.all(
                Array.from({ length: calls }, (_, i) =>
                  client.call('echo', Buffer.from([i])).then(
                    (value) => ({ ok: true as const, value: value as Buffer }),
                    (error: unknown) => ({ ok: false as const, error }),
                  ),
                ),
              );
              for (const outcome of outcomes) {
                if (!outcome.ok) expectRpcError(outcome.error, kCallErrors, 'a call failed');
              }
              // A valid stream: each call (seq 1, 2, 3) gets the first reply that names its seq.
              if (!s.mutated && !s.messages.some((m) => m.kind === Kind.GOAWAY)) {
                outcomes.forEach((outcome, i) => {
                  const reply = s.messages.find(
                    (m) => m.seq === i + 1 && (m.kind === Kind.RESPONSE || m.kind === Kind.ERROR),
                  );
                  if (reply?.kind === Kind.RESPONSE)
                    expect(outcome).toEqual({ ok: true, value: reply.payload });
                  else if (reply?.kind === Kind.ERROR) {
                    expect(outcome.ok).toBe(false);
                    // Processed unless the server said it refused the call (REFUSED).
                    expect((outcome as { error: RpcError }).error).toMatchObject({
                      code: 'ERR_NETPOLL_RPC_REMOTE',
                      processed: reply.refused !== true,
                    });
                  }
                });
              }
            } finally {
              client.destroy();
            }
          },
        ),
        budget(kShare.client),
      );
    },
    budget(kShare.client) + kCaseTimeout + 60_000,
  );
});
