/**
 * Property: any valid message — every kind, random seq, method, timeout, metadata (UTF-8 values),
 * payloads up to ~6 KiB — survives encodeMessage, a random split of the byte stream into chunks,
 * reassembly by the test's own length-prefixed accumulator, and decodeMessage, deep-equal.
 */
import fc from 'fast-check';
import { decodeMessage, encodeMessage, type LengthHeader, type Message } from '../src';
import { messageArbitrary, messageFor } from './helpers/arbitraries';
import { FrameAccumulator } from './helpers/frames';

/** The body size of `message` with a 4-byte header (the same body for every header size). */
function bodySize(message: Message): number {
  return encodeMessage(message, 4).length - 4;
}

/** `stream` cut at `cuts` (positions taken modulo its length), in order. */
function split(stream: Buffer, cuts: number[], byteByByte: boolean): Buffer[] {
  if (byteByByte) return Array.from(stream, (byte) => Buffer.of(byte));
  const positions = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort(
    (a, b) => a - b,
  );
  const chunks: Buffer[] = [];
  let from = 0;
  for (const position of [...positions, stream.length]) {
    chunks.push(stream.subarray(from, position));
    from = position;
  }
  return chunks;
}

const streamArbitrary = fc.constantFrom<LengthHeader>(1, 2, 4).chain((lengthHeader) =>
  fc.record({
    lengthHeader: fc.constant(lengthHeader),
    messages: fc.array(messageFor(lengthHeader, bodySize), { minLength: 1, maxLength: 8 }),
    cuts: fc.array(fc.nat(), { maxLength: 24 }),
    byteByByte: fc.boolean(),
  }),
);

describe('encodeMessage → chunked stream → accumulator → decodeMessage', () => {
  it('round-trips every message of a randomly split stream, deep-equal', () => {
    fc.assert(
      fc.property(streamArbitrary, ({ lengthHeader, messages, cuts, byteByByte }) => {
        const stream = Buffer.concat(
          messages.map((message) => encodeMessage(message, lengthHeader)),
        );
        const accumulator = new FrameAccumulator(lengthHeader);
        const bodies = split(stream, cuts, byteByByte).flatMap((chunk) => accumulator.push(chunk));
        expect(accumulator.pending).toBe(0);
        expect(bodies.map((body) => decodeMessage(body))).toEqual(messages);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips a single message of any kind and size with a 4-byte header', () => {
    fc.assert(
      fc.property(messageArbitrary, (message) => {
        const frame = encodeMessage(message);
        expect(frame.readUInt32BE(0)).toBe(frame.length - 4);
        expect(decodeMessage(frame.subarray(4))).toEqual(message);
      }),
      { numRuns: 500 },
    );
  });

  it('encodes the same body whatever the length header (only the prefix differs)', () => {
    fc.assert(
      fc.property(messageFor(1, bodySize), (message) => {
        const four = encodeMessage(message, 4);
        expect(encodeMessage(message, 2).subarray(2).equals(four.subarray(4))).toBe(true);
        expect(encodeMessage(message, 1).subarray(1).equals(four.subarray(4))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
