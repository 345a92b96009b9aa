/**
 * The server's frame reading on a reader whose frames straddle nodes (core's native framing puts
 * every frame in one region; a reader of split regions takes the peek-cache path): the header is
 * decoded from the peeked copy, the payload is read on its own, and the replies are the same.
 */
import type { Connection } from '@netpoll/core';
import { LinkBuffer } from '@netpoll/linkbuffer';
import { decodeMessage, encodeMessage, Kind, type Message } from '../src';
import { resolveServerOptions } from '../src/options';
import { ServerConnection } from '../src/server/server-connection';
import { ServerCore } from '../src/server/server-core';
import { FrameAccumulator } from './helpers/frames';

const owner = { releaseRegion(): void {} };

/** A connection stand-in whose reader holds `bytes` cut into regions of `chunk` bytes. */
function fakeConnection(bytes: Buffer, chunk: number) {
  const reader = new LinkBuffer();
  for (let at = 0; at < bytes.length; at += chunk) {
    // Each region in memory of its own: nothing lies back to back, so no read spans them.
    const part = Buffer.from(bytes.subarray(at, at + chunk));
    reader.appendRegion(part, 0, part.length, owner, 0);
  }
  const writer = new LinkBuffer();
  const connection = {
    reader,
    writer,
    closed: false,
    writable: true, // the client reads its replies
    remoteAddress: 'test',
    hold: () => () => {},
    close() {
      this.closed = true;
    },
    pauseRead() {},
    resumeRead() {},
    setOnRequest() {},
  };
  return connection;
}

function replies(writer: LinkBuffer): Message[] {
  const accumulator = new FrameAccumulator(4);
  return accumulator.push(writer.readBinary(writer.len())).map(decodeMessage);
}

describe('ServerConnection reading frames that straddle reader nodes', () => {
  it.each([1, 3, 7, 64])('answers requests and pings cut into %i-byte regions', (chunk) => {
    const seen: Buffer[] = [];
    const core = new ServerCore(
      {
        echo(request: Buffer) {
          seen.push(Buffer.from(request));
          return Buffer.concat([Buffer.from('re:'), request]);
        },
        json: {
          requestSerializer: 'json',
          responseSerializer: 'json',
          handler: (request: unknown) => ({ got: request }),
        },
      },
      resolveServerOptions({}),
    );
    const big = Buffer.alloc(5000, 0x5a); // above the 1 KiB pooled-copy threshold
    big.write('start', 0, 'latin1');
    big.write('end', big.length - 3, 'latin1');
    const frames = Buffer.concat([
      encodeMessage({
        kind: Kind.REQUEST,
        seq: 1,
        method: 'echo',
        metadata: { a: 'b' },
        timeout: 60_000,
        payload: Buffer.from('small'),
      }),
      encodeMessage({ kind: Kind.PING, seq: 2, payload: Buffer.from('ping payload') }),
      encodeMessage({ kind: Kind.REQUEST, seq: 3, method: 'echo', payload: Buffer.alloc(0) }),
      encodeMessage({ kind: Kind.REQUEST, seq: 4, method: 'echo', payload: big }),
      encodeMessage({
        kind: Kind.REQUEST,
        seq: 5,
        method: 'json',
        payload: Buffer.from('{"x":[1,2]}'),
      }),
      encodeMessage({ kind: Kind.PING, seq: 6, payload: Buffer.alloc(0) }),
      encodeMessage({ kind: Kind.REQUEST, seq: 7, method: 'nope', payload: Buffer.from('x') }),
    ]);
    const connection = fakeConnection(frames, chunk);
    const server = new ServerConnection(connection as unknown as Connection, core);
    server.onRequest();
    expect(connection.reader.len()).toBe(0);
    expect(connection.closed).toBe(false);
    const out = replies(connection.writer);
    expect(out.map((reply) => [reply.kind, reply.seq])).toEqual([
      [Kind.RESPONSE, 1],
      [Kind.PONG, 2],
      [Kind.RESPONSE, 3],
      [Kind.RESPONSE, 4],
      [Kind.RESPONSE, 5],
      [Kind.PONG, 6],
      [Kind.ERROR, 7],
    ]);
    expect(out[0]!.payload.toString('latin1')).toBe('re:small');
    expect(out[1]!.payload.toString('latin1')).toBe('ping payload');
    expect(out[2]!.payload.toString('latin1')).toBe('re:');
    expect(out[3]!.payload.equals(Buffer.concat([Buffer.from('re:'), big]))).toBe(true);
    expect(JSON.parse(out[4]!.payload.toString())).toEqual({ got: { x: [1, 2] } });
    expect(out[5]!.payload.length).toBe(0);
    expect(out[6]).toMatchObject({ code: 'UNIMPLEMENTED', message: 'no method "nope"' });
    expect(seen.map((request) => request.length)).toEqual([5, 0, 5000]);
  });
});
