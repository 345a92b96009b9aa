/**
 * A byte-exact check core.bench.ts runs against every server before measuring it, so no contender
 * (the C floor included) can look cheap by echoing the wrong bytes: length-header frames of sizes
 * from 0 to 300 000 payload bytes with distinct patterns, written in pieces that split headers and
 * payloads, must come back identical and in order.
 */
import { connect } from 'node:net';

/** Payload sizes of the frames sent; the largest spans several reads on either side. */
const kPayloadSizes = [0, 1, 3, 100, 1024, 4095, 16384, 70000, 300000, 5];
/** Sizes of the writes the frames are cut into (cycled), so boundaries fall everywhere. */
const kPieceSizes = [1, 3, 2, 7, 1000, 65536, 4, 12345];

function frames(): Buffer {
  const parts = kPayloadSizes.map((size, index) => {
    const frame = Buffer.alloc(4 + size);
    frame.writeUInt32BE(size, 0);
    for (let i = 0; i < size; i++) frame[4 + i] = (index * 31 + i * 7) % 251;
    return frame;
  });
  return Buffer.concat(parts);
}

/**
 * Sends the frames to 127.0.0.1:port over one connection and resolves when the identical bytes
 * came back; rejects (naming `name`) on a difference, a close or an error, or after 10 s.
 */
export function verifyEcho(name: string, port: number): Promise<void> {
  const sent = frames();
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    const chunks: Buffer[] = [];
    let received = 0;
    const fail = (reason: string): void => {
      socket.destroy();
      reject(new Error(`${name} server failed the echo check: ${reason}`));
    };
    const timer = setTimeout(() => fail(`${received} of ${sent.length} bytes after 10 s`), 10_000);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received < sent.length) return;
      clearTimeout(timer);
      const echoed = Buffer.concat(chunks);
      if (!echoed.equals(sent)) {
        let at = 0;
        while (at < sent.length && echoed[at] === sent[at]) at++;
        fail(`${echoed.length} bytes back for ${sent.length}, first difference at byte ${at}`);
        return;
      }
      socket.end();
      resolve();
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      fail(error.message);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (received < sent.length) fail(`closed after ${received} of ${sent.length} bytes`);
    });
    socket.on('connect', async () => {
      let offset = 0;
      for (let piece = 0; offset < sent.length && !socket.destroyed; piece++) {
        const size = kPieceSizes[piece % kPieceSizes.length]!;
        socket.write(sent.subarray(offset, offset + size));
        offset += size;
        // Yield so consecutive pieces tend to leave in separate segments.
        await new Promise((next) => setImmediate(next));
      }
    });
  });
}
