import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { afterTest } from '@netpoll/jest-config/cleanup';

/**
 * A tiny server speaking @netpoll/rpc's wire format (packages/rpc/WIRE.md, version 1, 4-byte
 * length header), written here from the specification and not with @netpoll/rpc, so the native
 * load generator is tested on its own. It decodes every REQUEST (and fails the test's checks
 * through `requests` when one is malformed) and answers as `mode` says:
 * - `echo`: RESPONSE with the request's payload;
 * - `reverse`: the same, but the replies to the requests of one read go out in reverse order;
 * - `metadata`: RESPONSE with the METADATA flag, two entries, then the payload;
 * - `corrupt`: RESPONSE with the payload's first byte flipped;
 * - `error`: ERROR `UNIMPLEMENTED` with a message;
 * - `ping`: a PING (seq 77, 8 payload bytes) before the first reply; the PONG is recorded.
 */
export type WireMode = 'echo' | 'reverse' | 'metadata' | 'corrupt' | 'error' | 'ping';

/** A REQUEST as the server decoded it. */
export interface DecodedRequest {
  readonly kindVersion: number;
  readonly flags: number;
  readonly seq: number;
  readonly method: string;
  readonly timeout: number | undefined;
  readonly payload: Buffer;
}

export interface WireEchoServer {
  readonly port: number;
  /** Requests decoded so far (the first 1000). */
  readonly requests: DecodedRequest[];
  /** PONG frames received (kind, seq, payload). */
  readonly pongs: Array<{ readonly seq: number; readonly payload: Buffer }>;
  /** Protocol problems the server saw (should stay empty). */
  readonly problems: string[];
}

function frame(body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}

function messageHeader(kind: number, flags: number, seq: number): Buffer {
  const header = Buffer.alloc(6);
  header[0] = (1 << 4) | kind;
  header[1] = flags;
  header.writeUInt32BE(seq, 2);
  return header;
}

function reply(mode: WireMode, request: DecodedRequest): Buffer {
  switch (mode) {
    case 'error': {
      const code = Buffer.from('UNIMPLEMENTED', 'ascii');
      const message = Buffer.from('no such method', 'utf8');
      return frame(
        Buffer.concat([
          messageHeader(3, 0, request.seq),
          Buffer.from([code.length]),
          code,
          Buffer.from([message.length >> 8, message.length & 0xff]),
          message,
        ]),
      );
    }
    case 'metadata': {
      const entry = (key: string, value: string): Buffer => {
        const keyBytes = Buffer.from(key, 'ascii');
        const valueBytes = Buffer.from(value, 'utf8');
        return Buffer.concat([
          Buffer.from([keyBytes.length]),
          keyBytes,
          Buffer.from([valueBytes.length >> 8, valueBytes.length & 0xff]),
          valueBytes,
        ]);
      };
      return frame(
        Buffer.concat([
          messageHeader(2, 0x02, request.seq),
          Buffer.from([2]),
          entry('server', 'wire-echo'),
          entry('x-trace', 'é'.repeat(300)),
          request.payload,
        ]),
      );
    }
    case 'corrupt': {
      const payload = Buffer.from(request.payload);
      if (payload.length > 0) payload[0]! ^= 0xff;
      return frame(Buffer.concat([messageHeader(2, 0, request.seq), payload]));
    }
    default:
      return frame(Buffer.concat([messageHeader(2, 0, request.seq), request.payload]));
  }
}

/** Starts the server on 127.0.0.1, port 0; it is closed after the test. */
export async function startWireEchoServer(mode: WireMode): Promise<WireEchoServer> {
  const requests: DecodedRequest[] = [];
  const pongs: Array<{ seq: number; payload: Buffer }> = [];
  const problems: string[] = [];
  const sockets = new Set<Socket>();
  let pinged = false;
  const server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      const replies: Buffer[] = [];
      while (pending.length >= 4) {
        const length = pending.readUInt32BE(0);
        if (pending.length < 4 + length) break;
        const body = pending.subarray(4, 4 + length);
        pending = pending.subarray(4 + length);
        const kind = body[0]! & 0x0f;
        if (kind === 6) {
          pongs.push({ seq: body.readUInt32BE(2), payload: Buffer.from(body.subarray(6)) });
          continue;
        }
        if (kind !== 1) {
          problems.push(`unexpected kind ${kind}`);
          continue;
        }
        const flags = body[1]!;
        const methodLength = body[6]!;
        let at = 7 + methodLength;
        const method = body.toString('ascii', 7, at);
        let timeout: number | undefined;
        if ((flags & 0x01) !== 0) {
          timeout = body.readUInt32BE(at);
          at += 4;
        }
        const request: DecodedRequest = {
          kindVersion: body[0]!,
          flags,
          seq: body.readUInt32BE(2),
          method,
          timeout,
          payload: Buffer.from(body.subarray(at)),
        };
        if (requests.length < 1000) requests.push(request);
        if (mode === 'ping' && !pinged) {
          pinged = true;
          replies.push(
            frame(Buffer.concat([messageHeader(5, 0, 77), Buffer.from('pingpong', 'ascii')])),
          );
        }
        replies.push(reply(mode, request));
      }
      if (mode === 'reverse') replies.reverse();
      for (const bytes of replies) socket.write(bytes);
    });
  });
  server.listen({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  afterTest(async () => {
    const closed = once(server, 'close');
    server.close();
    for (const socket of sockets) socket.destroy();
    await closed;
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return { port: address.port, requests, pongs, problems };
}
