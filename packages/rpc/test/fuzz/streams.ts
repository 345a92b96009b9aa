/**
 * Inputs of the wire-format fuzz properties (frames.fuzz.ts): streams of valid frames of every
 * kind with mutations (bit flips, bytes overwritten, inserted and deleted, ranges duplicated,
 * length headers rewritten, truncation) or plain random bytes, cut into chunks; and the frame
 * bodies core's native framing would deliver from such a stream.
 */
import fc from 'fast-check';
import { encodeMessage, type LengthHeader, type Message } from '../../src';
import { readLength } from '../helpers/frames';

/** The body size of `message` (the same for every header size). */
export function bodySize(message: Message): number {
  return encodeMessage(message, 4).length - 4;
}

export type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; count: number }
  | { op: 'duplicate'; at: number; count: number }
  | { op: 'length'; at: number; value: number }
  | { op: 'truncate'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({
    op: fc.constant('delete' as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({
    op: fc.constant('duplicate' as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 16 }),
  }),
  fc.record({ op: fc.constant('length' as const), at: fc.nat(), value: fc.nat() }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
);

/** `stream` with `mutations` applied in order (positions taken modulo its length). */
export function mutate(
  stream: Buffer,
  mutations: readonly Mutation[],
  lengthHeader: LengthHeader,
): Buffer {
  let bytes = Buffer.from(stream);
  for (const change of mutations) {
    const at = bytes.length === 0 ? 0 : change.at % bytes.length;
    switch (change.op) {
      case 'flip':
        if (bytes.length > 0) bytes[at]! ^= 1 << change.bit;
        break;
      case 'set':
        if (bytes.length > 0) bytes[at] = change.value;
        break;
      case 'insert':
        bytes = Buffer.concat([bytes.subarray(0, at), change.bytes, bytes.subarray(at)]);
        break;
      case 'delete':
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + change.count)]);
        break;
      case 'duplicate':
        bytes = Buffer.concat([bytes.subarray(0, at + change.count), bytes.subarray(at)]);
        break;
      case 'length':
        // A length header anywhere: small, around the limit, or anything the header can hold.
        if (bytes.length >= at + lengthHeader) {
          const value = change.value % 2 ** (8 * lengthHeader);
          if (lengthHeader === 4) bytes.writeUInt32BE(value, at);
          else if (lengthHeader === 2) bytes.writeUInt16BE(value, at);
          else bytes[at] = value;
        }
        break;
      case 'truncate':
        bytes = bytes.subarray(0, at);
        break;
    }
  }
  return bytes;
}

export interface Stream {
  lengthHeader: LengthHeader;
  messages: Message[];
  /** What is sent: the encoded messages, mutated (or random bytes when `random`). */
  bytes: Buffer;
  mutated: boolean;
  /** Split points of the byte stream (taken modulo its length). */
  cuts: number[];
}

/**
 * A stream of `messages` (from `messageArbitrary`), mutated by up to 4 changes in half the cases,
 * or plain random bytes in a sixth of them.
 */
export function streamOf(messages: (lengthHeader: LengthHeader) => fc.Arbitrary<Message>) {
  return fc.constantFrom<LengthHeader>(1, 2, 4).chain((lengthHeader) =>
    fc
      .record({
        messages: fc.array(messages(lengthHeader), { minLength: 1, maxLength: 6 }),
        mutations: fc.oneof(
          fc.constant([] as Mutation[]),
          fc.array(mutation, { minLength: 1, maxLength: 4 }),
        ),
        random: fc.option(fc.uint8Array({ minLength: 1, maxLength: 300 }), { freq: 5 }),
        cuts: fc.array(fc.nat(), { maxLength: 12 }),
      })
      .map(({ messages, mutations, random, cuts }): Stream => {
        const encoded = Buffer.concat(messages.map((m) => encodeMessage(m, lengthHeader)));
        if (random !== null) {
          return { lengthHeader, messages, bytes: Buffer.from(random), mutated: true, cuts };
        }
        const bytes = mutate(encoded, mutations, lengthHeader);
        return { lengthHeader, messages, bytes, mutated: !bytes.equals(encoded), cuts };
      }),
  );
}

/** `bytes` cut at `cuts`, in order. */
export function chunks(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const positions = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const position of [...positions, bytes.length]) {
    if (position > from) parts.push(bytes.subarray(from, position));
    from = position;
  }
  return parts;
}

/**
 * The frame bodies core's native framing delivers from `bytes`: whole frames up to the first
 * header above `maxFrame` (which closes the connection) or the end.
 */
export function framesOf(bytes: Buffer, lengthHeader: LengthHeader, maxFrame: number): Buffer[] {
  const bodies: Buffer[] = [];
  let at = 0;
  while (bytes.length - at >= lengthHeader) {
    const length = readLength(bytes.subarray(at), lengthHeader);
    if (length > maxFrame || bytes.length - at - lengthHeader < length) break;
    bodies.push(bytes.subarray(at + lengthHeader, at + lengthHeader + length));
    at += lengthHeader + length;
  }
  return bodies;
}
