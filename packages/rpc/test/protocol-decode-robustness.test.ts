/**
 * Property: decodeHeader on garbage — random bytes, headers that look almost right, valid frames
 * with bit flips, and valid frames truncated at every offset — either decodes or throws an
 * RpcError with code ERR_NETPOLL_RPC_PROTOCOL, never another error. It never reads out of bounds:
 * each input is decoded from a Buffer exactly its size and again from the middle of a larger
 * Buffer with random bytes around it, and both must agree (a read past `end` would see the
 * padding in one and nothing in the other), with every decoded offset inside the body.
 */
import fc from 'fast-check';
import { encodeMessage, isNetpollError, Kind, RpcError } from '../src';
import { decodeHeader, MessageHeader } from '../src/protocol/decode';
import { decodeMessage } from '../src/protocol/message';
import { messageArbitrary } from './helpers/arbitraries';
import { hex } from './helpers/frames';

type Outcome = { ok: true; fields: Record<string, number> } | { ok: false; message: string };

/** The fields of a decoded header, offsets made relative to `start`. */
function fieldsOf(header: MessageHeader, start: number): Record<string, number> {
  const fields: Record<string, number> = {
    kind: header.kind,
    flags: header.flags,
    seq: header.seq,
    payloadStart: header.payloadStart - start,
    payloadEnd: header.payloadEnd - start,
    metadataStart: header.metadataStart < 0 ? -1 : header.metadataStart - start,
    metadataEnd: header.metadataEnd < 0 ? -1 : header.metadataEnd - start,
  };
  if (header.kind === Kind.REQUEST || header.kind === Kind.ONE_WAY) {
    fields.methodStart = header.methodStart - start;
    fields.methodLength = header.methodLength;
    fields.timeout = header.timeout;
  }
  if (header.kind === Kind.ERROR) {
    fields.codeStart = header.codeStart - start;
    fields.codeLength = header.codeLength;
    fields.messageStart = header.messageStart - start;
    fields.messageLength = header.messageLength;
  }
  return fields;
}

/** Decodes `body[start, end)`; any error but a protocol RpcError fails the test. */
function decode(body: Buffer, start: number, end: number): Outcome {
  const header = new MessageHeader();
  try {
    decodeHeader(body, start, end, header);
  } catch (error) {
    if (!(error instanceof RpcError) || !isNetpollError(error)) throw error;
    if (error.code !== 'ERR_NETPOLL_RPC_PROTOCOL') throw error;
    return { ok: false, message: error.message };
  }
  return { ok: true, fields: fieldsOf(header, start) };
}

/** Every offset a decoded header names lies inside the body of `length` bytes. */
function inBounds(fields: Record<string, number>, length: number): boolean {
  const within = (from: number, size: number) => from >= 0 && size >= 0 && from + size <= length;
  const { payloadStart, payloadEnd, metadataStart, metadataEnd } = fields as Record<string, number>;
  if (payloadEnd !== length || !within(payloadStart!, payloadEnd - payloadStart!)) return false;
  if (metadataStart! >= 0) {
    if (!within(metadataStart!, metadataEnd! - metadataStart!) || metadataEnd !== payloadStart) {
      return false;
    }
  }
  if (fields.methodStart !== undefined) {
    if (fields.methodLength! < 1 || !within(fields.methodStart, fields.methodLength!)) return false;
  }
  if (fields.codeStart !== undefined) {
    if (fields.codeLength! < 1 || !within(fields.codeStart, fields.codeLength!)) return false;
    if (!within(fields.messageStart!, fields.messageLength!)) return false;
  }
  return true;
}

/**
 * Decodes `bytes` from an exact-size copy and from inside random padding: the outcomes must be
 * the same, offsets in bounds, and a header that decodes must make a whole message too. (Plain
 * comparisons first, `expect` only to report a failure: this runs hundreds of thousands of times.)
 */
function checkDecode(bytes: Uint8Array, before: Uint8Array, after: Uint8Array): void {
  const exact = Buffer.from(bytes);
  const padded = Buffer.concat([before, bytes, after]);
  const alone = decode(exact, 0, exact.length);
  const inside = decode(padded, before.length, before.length + bytes.length);
  if (JSON.stringify(inside) !== JSON.stringify(alone)) expect(inside).toEqual(alone);
  if (alone.ok) {
    if (!inBounds(alone.fields, exact.length)) {
      expect({ fields: alone.fields, length: exact.length }).toBe('every offset inside the body');
    }
    const message = decodeMessage(exact);
    if (message.kind !== alone.fields.kind) expect(message.kind).toBe(alone.fields.kind);
  }
}

const padding = fc.uint8Array({ minLength: 1, maxLength: 16 });

/** Bytes shaped like a header often enough to reach past the version and flags checks. */
const headerLike = fc
  .tuple(
    fc.oneof(fc.integer({ min: 0x10, max: 0x1f }), fc.integer({ min: 0, max: 255 })),
    fc.oneof(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 255 })),
    fc.uint8Array({ maxLength: 4 }),
    fc.array(fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 255 })), {
      maxLength: 80,
    }),
  )
  .map(([kindVersion, flags, seq, rest]) => Uint8Array.from([kindVersion, flags, ...seq, ...rest]));

describe('decodeHeader on garbage', () => {
  it('random bytes: decodes or throws ERR_NETPOLL_RPC_PROTOCOL, reading only the body', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), padding, padding, checkDecode), {
      numRuns: 2000,
    });
  });

  it('header-like bytes: decodes or throws ERR_NETPOLL_RPC_PROTOCOL, reading only the body', () => {
    fc.assert(fc.property(headerLike, padding, padding, checkDecode), { numRuns: 5000 });
  });

  it('valid frames with bit flips: decodes or throws ERR_NETPOLL_RPC_PROTOCOL', () => {
    fc.assert(
      fc.property(
        messageArbitrary,
        fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
        padding,
        padding,
        (message, flips, before, after) => {
          const body = encodeMessage(message).subarray(4);
          // Flip bits of the header region mostly (where the decoder looks), sometimes anywhere.
          const headerBits = Math.min(body.length, 64) * 8;
          for (const flip of flips) {
            const bit = flip % 2 === 0 ? (flip >> 1) % headerBits : (flip >> 1) % (body.length * 8);
            body[bit >> 3]! ^= 1 << (bit & 7);
          }
          checkDecode(body, before, after);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('valid frames truncated at every offset: decodes or throws ERR_NETPOLL_RPC_PROTOCOL', () => {
    fc.assert(
      fc.property(messageArbitrary, padding, padding, (message, before, after) => {
        const body = encodeMessage(message).subarray(4);
        // Every cut inside the message header, then a sample of cuts inside a long payload.
        const step = Math.max(1, Math.floor(body.length / 300));
        for (let cut = 0; cut < body.length; cut += cut < 600 ? 1 : step) {
          checkDecode(body.subarray(0, cut), before, after);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a valid frame decodes identically from an exact buffer and from inside padding', () => {
    fc.assert(
      fc.property(messageArbitrary, padding, padding, (message, before, after) => {
        const body = encodeMessage(message).subarray(4);
        const alone = decode(Buffer.from(body), 0, body.length);
        expect(alone.ok).toBe(true);
        checkDecode(body, before, after);
      }),
      { numRuns: 500 },
    );
  });
});

describe('decodeHeader refuses what the wire format calls malformed (ERR_NETPOLL_RPC_PROTOCOL)', () => {
  it.each([
    ['another version (2)', '21 00 00000001 01 61', 'protocol version 2 (this side speaks 1)'],
    ['version 0', '01 00 00000001 01 61', 'protocol version 0 (this side speaks 1)'],
    ['an unknown kind (9)', '19 00 00000001', 'unknown message kind 9'],
    ['kind 0', '10 00 00000001', 'unknown message kind 0'],
    ['a reserved flag bit (bit 4)', '13 10 00000001 01 58 0000', 'reserved flag bits set (16)'],
    ['a reserved flag bit (bit 7)', '12 80 00000001', 'reserved flag bits set (128)'],
    ['a body shorter than the fixed header', '11 00 000000', 'a message shorter than its header'],
    ['a zero methodLength', '11 00 00000001 00', 'an empty method name'],
    ['a request without a method', '11 00 00000001', 'a request without a method'],
    ['a method past the body', '11 00 00000001 05 6162', 'a method name past the message'],
    ['a deadline past the body', '11 01 00000001 01 61 0000', 'a deadline past the message'],
    ['a deadline of 0 ms', '11 01 00000001 01 61 00000000', 'a deadline of 0 ms'],
    ['CLOSING on a request', '11 04 00000001 01 61', 'CLOSING on a request'],
    ['REFUSED on a request', '11 08 00000001 01 61', 'REFUSED on a request'],
    ['REFUSED on a one-way request', '14 08 00000001 01 61', 'REFUSED on a request'],
    ['REFUSED on a response', '12 08 00000001', 'REFUSED on a response'],
    ['REFUSED on a GOAWAY', '17 08 00000001', 'flags on a control message (8)'],
    ['DEADLINE on a response', '12 01 00000001', 'DEADLINE on a response'],
    ['DEADLINE on an error', '13 01 00000001 01 58 0000', 'DEADLINE on an error'],
    ['a zero code length', '13 00 00000001 00 0000', 'an empty error code'],
    [
      'an error message past the body',
      '13 00 00000001 01 58 0005 61',
      'an error message past the message',
    ],
    ['metadata count 0', '12 02 00000001 00', 'an empty metadata block'],
    ['a zero metadata key length', '12 02 00000001 01 00 0000', 'an empty metadata key'],
    [
      'a metadata value past the body',
      '12 02 00000001 01 01 6b 0009 61',
      'a metadata value past the message',
    ],
    ['METADATA with no block', '12 02 00000001', 'metadata past the message'],
    ['flags on a PING', '15 02 00000001', 'flags on a control message (2)'],
    ['DEADLINE on a PING', '15 01 00000001', 'flags on a control message (1)'],
    ['METADATA on a CANCEL', '18 02 00000001', 'flags on a control message (2)'],
    ['DEADLINE and CLOSING on a CANCEL', '18 05 00000001', 'flags on a control message (5)'],
    ['a payload on a CANCEL at the deadline', '18 01 00000001 00', 'a payload on a cancel'],
    ['a payload on a CANCEL', '18 00 00000001 00', 'a payload on a cancel'],
    [
      'a 65-byte PING payload',
      `15 00 00000001 ${'00'.repeat(65)}`,
      'a ping payload of 65 bytes (at most 64)',
    ],
    [
      'a 65-byte PONG payload',
      `16 00 00000001 ${'00'.repeat(65)}`,
      'a ping payload of 65 bytes (at most 64)',
    ],
  ])('%s', (_name, body, why) => {
    const outcome = decode(hex(body), 0, hex(body).length);
    expect(outcome).toEqual({ ok: false, message: `protocol error: ${why}` });
  });

  it('accepts a 64-byte PING payload and a long GOAWAY reason', () => {
    expect(decode(hex(`15 00 00000001 ${'00'.repeat(64)}`), 0, 70).ok).toBe(true);
    const goaway = hex(`17 00 00000001 ${'61'.repeat(1000)}`);
    expect(decode(goaway, 0, goaway.length).ok).toBe(true);
  });
});

describe('decodeHeader into a reused header', () => {
  it('keeps nothing of the message decoded before: no deadline, no metadata carried over', () => {
    const header = new MessageHeader();
    const decodeBody = (frame: Buffer) => decodeHeader(frame, 4, frame.length, header);
    decodeBody(
      encodeMessage({
        kind: Kind.REQUEST,
        seq: 1,
        method: 'm',
        timeout: 5000,
        metadata: { k: 'v' },
        payload: Buffer.from('first'),
      }),
    );
    expect([header.timeout, header.metadataStart >= 0]).toEqual([5000, true]);
    decodeBody(
      encodeMessage({ kind: Kind.REQUEST, seq: 2, method: 'm', payload: Buffer.from('x') }),
    );
    expect(fieldsOf(header, 4)).toMatchObject({
      seq: 2,
      timeout: 0,
      metadataStart: -1,
      metadataEnd: -1,
    });
  });
});
