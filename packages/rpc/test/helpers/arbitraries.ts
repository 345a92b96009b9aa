/**
 * fast-check arbitraries of wire-format messages, in the canonical form `decodeMessage` returns
 * (optional fields absent rather than undefined, no empty metadata, `closing` and `refused` only
 * when true), so
 * an encoded-then-decoded message must deep-equal the generated one.
 */
import fc from 'fast-check';
import { Kind, type LengthHeader, type Message } from '../../src';

/** Limits of one generated message: `small` keeps bodies within a 1-byte length header mostly. */
interface Limits {
  name: number;
  text: number;
  payload: number;
  metadataKeys: number;
}

const kSmall: Limits = { name: 8, text: 8, payload: 48, metadataKeys: 2 };
const kLarge: Limits = { name: 255, text: 60, payload: 6000, metadataKeys: 8 };

const printable = fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code));

/** 1 to `max` printable ASCII characters (methods, codes, metadata keys). */
export function asciiName(max: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: printable, minLength: 1, maxLength: Math.min(max, 12) }),
    fc.string({ unit: printable, minLength: 1, maxLength: max }),
  );
}

/** Any Unicode text without lone surrogates (what survives UTF-8), ASCII or not. */
function text(max: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: 'binary', maxLength: max }),
    fc.string({ unit: 'grapheme', maxLength: max }),
  );
}

function bytes(max: number, size?: 'max'): fc.Arbitrary<Buffer> {
  return fc.uint8Array({ maxLength: max, size }).map((array) => Buffer.from(array));
}

/** Mostly short payloads; above 64 bytes, also any length up to `max` (4 KiB and more). */
function payload(max: number): fc.Arbitrary<Buffer> {
  return max > 64 ? fc.oneof(bytes(64), bytes(max, 'max')) : bytes(max);
}

function metadata(limits: Limits): fc.Arbitrary<Record<string, string>> {
  return fc
    .dictionary(asciiName(limits.name), text(limits.text), {
      minKeys: 1,
      maxKeys: limits.metadataKeys,
      noNullPrototype: true,
    })
    .filter((record) => !Object.hasOwn(record, '__proto__'));
}

function messageOf(limits: Limits): fc.Arbitrary<Message> {
  const seq = fc.integer({ min: 0, max: 0xffffffff });
  const request = fc.record(
    {
      kind: fc.constantFrom(Kind.REQUEST, Kind.ONE_WAY),
      seq: fc.integer({ min: 1, max: 0xffffffff }),
      method: asciiName(limits.name),
      timeout: fc.oneof(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 0xffffffff }),
      ),
      metadata: metadata(limits),
      payload: payload(limits.payload),
    },
    { requiredKeys: ['kind', 'seq', 'method', 'payload'] },
  );
  const response = fc.record(
    {
      kind: fc.constant(Kind.RESPONSE),
      seq,
      closing: fc.constant(true),
      metadata: metadata(limits),
      payload: payload(limits.payload),
    },
    { requiredKeys: ['kind', 'seq', 'payload'] },
  );
  const error = fc.record(
    {
      kind: fc.constant(Kind.ERROR),
      seq,
      code: asciiName(limits.name),
      message: text(limits.text),
      closing: fc.constant(true),
      refused: fc.constant(true),
      metadata: metadata(limits),
      payload: payload(Math.min(limits.payload, 256)),
    },
    { requiredKeys: ['kind', 'seq', 'code', 'message', 'payload'] },
  );
  const pingPong = fc.record({
    kind: fc.constantFrom(Kind.PING, Kind.PONG),
    seq,
    payload: bytes(64),
  });
  const goaway = fc.record({
    kind: fc.constant(Kind.GOAWAY),
    seq,
    payload: fc.oneof(
      text(limits.text).map((reason) => Buffer.from(reason, 'utf8')),
      payload(limits.payload),
    ),
  });
  const cancel = fc.record({
    kind: fc.constant(Kind.CANCEL),
    seq: fc.integer({ min: 1, max: 0xffffffff }),
    payload: fc.constant(Buffer.alloc(0)),
  });
  return fc.oneof(request, response, error, pingPong, goaway, cancel) as fc.Arbitrary<Message>;
}

/** Any valid message, payloads up to about 6 KiB (above the encoder's 4 KiB inline limit). */
export const messageArbitrary: fc.Arbitrary<Message> = messageOf(kLarge);

/** Valid messages small enough for `lengthHeader` (255 bytes of body for a 1-byte header). */
export function messageFor(lengthHeader: LengthHeader, size: (message: Message) => number) {
  if (lengthHeader !== 1) return messageArbitrary;
  return messageOf(kSmall).filter((message) => size(message) <= 255);
}
