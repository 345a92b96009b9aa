/**
 * Golden frames of the version 1 wire format. Every hex literal below was written by hand from
 * the specification (README "Wire format"; field by field, see the comments), not produced by the
 * encoder, so these tests pin the specification: encodeMessage must produce exactly these bytes with 1-, 2- and 4-byte length
 * headers, and decodeMessage must read the bodies back into the same messages.
 */
import { decodeMessage, encodeMessage, Kind, type LengthHeader, type Message } from '../src';
import { hex } from './helpers/frames';

interface Golden {
  name: string;
  message: Message;
  /** The body, hand-encoded from the specification. */
  body: string;
  /** The length header for each header size (the body's length, big-endian). */
  length: Record<LengthHeader, string>;
}

const kGolden: Golden[] = [
  {
    name: 'REQUEST without deadline or metadata',
    message: { kind: Kind.REQUEST, seq: 1, method: 'echo', payload: Buffer.from('hi') },
    // 0x11: version 1, kind 1 | flags 0 | seq 1 | methodLength 4 | "echo" | payload "hi"
    body: '11 00 00000001 04 6563686f 6869',
    length: { 1: '0d', 2: '000d', 4: '0000000d' },
  },
  {
    name: "REQUEST of the spec's example (seq 7, echo, 250 ms left, payload hi)",
    message: {
      kind: Kind.REQUEST,
      seq: 7,
      method: 'echo',
      timeout: 250,
      payload: Buffer.from('hi'),
    },
    // v1 REQUEST | DEADLINE | seq 7 | 4 "echo" | u32 250 (fa) | "hi"
    body: '11 01 00000007 04 6563686f 000000fa 6869',
    length: { 1: '11', 2: '0011', 4: '00000011' },
  },
  {
    name: 'REQUEST with DEADLINE (a 5-byte method: a 16-byte message header)',
    message: {
      kind: Kind.REQUEST,
      seq: 0x01020304,
      method: 'hello',
      timeout: 1000,
      payload: Buffer.from('ab'),
    },
    // flags 0x01 DEADLINE | seq 0x01020304 | 5 "hello" | u32 1000 ms | payload "ab"
    body: '11 01 01020304 05 68656c6c6f 000003e8 6162',
    length: { 1: '12', 2: '0012', 4: '00000012' },
  },
  {
    name: 'REQUEST with DEADLINE and METADATA (a UTF-8 value)',
    message: {
      kind: Kind.REQUEST,
      seq: 2,
      method: 'get',
      timeout: 65536,
      metadata: { k: 'v', trace: 'é' },
      payload: Buffer.from('{}'),
    },
    // flags 0x03 | seq 2 | 3 "get" | u32 65536 | count 2 | 1 "k" u16 1 "v" | 5 "trace" u16 2 "é"
    // (c3 a9) | payload "{}"
    body: '11 03 00000002 03 676574 00010000 02 01 6b 0001 76 05 7472616365 0002 c3a9 7b7d',
    length: { 1: '20', 2: '0020', 4: '00000020' },
  },
  {
    name: 'REQUEST with METADATA only (an empty value, no payload)',
    message: {
      kind: Kind.REQUEST,
      seq: 3,
      method: 'a',
      metadata: { x: '' },
      payload: Buffer.alloc(0),
    },
    // flags 0x02 | seq 3 | 1 "a" | count 1 | 1 "x" u16 0
    body: '11 02 00000003 01 61 01 01 78 0000',
    length: { 1: '0d', 2: '000d', 4: '0000000d' },
  },
  {
    name: 'RESPONSE',
    message: { kind: Kind.RESPONSE, seq: 1, payload: Buffer.from('ok') },
    // 0x12 | flags 0 | seq 1 | payload "ok"
    body: '12 00 00000001 6f6b',
    length: { 1: '08', 2: '0008', 4: '00000008' },
  },
  {
    name: 'RESPONSE with CLOSING',
    message: { kind: Kind.RESPONSE, seq: 0xfffffffe, closing: true, payload: Buffer.from('bye') },
    // flags 0x04 CLOSING | seq 0xfffffffe | payload "bye"
    body: '12 04 fffffffe 627965',
    length: { 1: '09', 2: '0009', 4: '00000009' },
  },
  {
    name: 'RESPONSE with METADATA and CLOSING',
    message: {
      kind: Kind.RESPONSE,
      seq: 5,
      closing: true,
      metadata: { s: 'ok' },
      payload: Buffer.from([0x00, 0xff]),
    },
    // flags 0x06 | seq 5 | count 1 | 1 "s" u16 2 "ok" | payload 00 ff
    body: '12 06 00000005 01 01 73 0002 6f6b 00ff',
    length: { 1: '0f', 2: '000f', 4: '0000000f' },
  },
  {
    name: 'ERROR',
    message: {
      kind: Kind.ERROR,
      seq: 9,
      code: 'NOT_FOUND',
      message: 'no key',
      payload: Buffer.alloc(0),
    },
    // 0x13 | flags 0 | seq 9 | codeLength 9 "NOT_FOUND" | u16 6 "no key"
    body: '13 00 00000009 09 4e4f545f464f554e44 0006 6e6f206b6579',
    length: { 1: '18', 2: '0018', 4: '00000018' },
  },
  {
    name: 'ERROR with CLOSING, METADATA and a UTF-8 message',
    message: {
      kind: Kind.ERROR,
      seq: 10,
      code: 'UNAVAILABLE',
      message: 'ü',
      closing: true,
      metadata: { r: '1' },
      payload: Buffer.alloc(0),
    },
    // flags 0x06 | seq 10 | 11 "UNAVAILABLE" | u16 2 "ü" (c3 bc) | count 1 | 1 "r" u16 1 "1"
    body: '13 06 0000000a 0b 554e415641494c41424c45 0002 c3bc 01 01 72 0001 31',
    length: { 1: '1c', 2: '001c', 4: '0000001c' },
  },
  {
    name: 'ERROR with REFUSED (the server refused the request before any handler ran)',
    message: {
      kind: Kind.ERROR,
      seq: 3,
      code: 'UNIMPLEMENTED',
      message: 'no method "x"',
      refused: true,
      payload: Buffer.alloc(0),
    },
    // flags 0x08 REFUSED | seq 3 | 13 "UNIMPLEMENTED" | u16 13 'no method "x"'
    body: '13 08 00000003 0d 554e494d504c454d454e544544 000d 6e6f206d6574686f6420227822',
    length: { 1: '23', 2: '0023', 4: '00000023' },
  },
  {
    name: 'ERROR with REFUSED and CLOSING (refused after the GOAWAY)',
    message: {
      kind: Kind.ERROR,
      seq: 0x100,
      code: 'UNAVAILABLE',
      message: '',
      closing: true,
      refused: true,
      payload: Buffer.alloc(0),
    },
    // flags 0x0c REFUSED | CLOSING | seq 256 | 11 "UNAVAILABLE" | u16 0
    body: '13 0c 00000100 0b 554e415641494c41424c45 0000',
    length: { 1: '14', 2: '0014', 4: '00000014' },
  },
  {
    name: 'ERROR with details (a payload)',
    message: { kind: Kind.ERROR, seq: 1, code: 'X', message: '', payload: hex('dead') },
    // flags 0 | seq 1 | 1 "X" | u16 0 (empty message) | payload de ad
    body: '13 00 00000001 01 58 0000 dead',
    length: { 1: '0c', 2: '000c', 4: '0000000c' },
  },
  {
    name: 'ONE_WAY',
    message: { kind: Kind.ONE_WAY, seq: 4, method: 'log', payload: Buffer.from('z') },
    // 0x14 | flags 0 | seq 4 | 3 "log" | payload "z"
    body: '14 00 00000004 03 6c6f67 7a',
    length: { 1: '0b', 2: '000b', 4: '0000000b' },
  },
  {
    name: 'ONE_WAY with DEADLINE',
    message: { kind: Kind.ONE_WAY, seq: 4, method: 'log', timeout: 1, payload: Buffer.from('z') },
    // flags 0x01 | seq 4 | 3 "log" | u32 1 ms | payload "z"
    body: '14 01 00000004 03 6c6f67 00000001 7a',
    length: { 1: '0f', 2: '000f', 4: '0000000f' },
  },
  {
    name: 'PING',
    message: { kind: Kind.PING, seq: 7, payload: Buffer.from('abc') },
    // 0x15 | flags 0 | ping id 7 | payload "abc"
    body: '15 00 00000007 616263',
    length: { 1: '09', 2: '0009', 4: '00000009' },
  },
  {
    name: 'PONG',
    message: { kind: Kind.PONG, seq: 7, payload: Buffer.from('abc') },
    // 0x16 | flags 0 | ping id 7 | the ping's payload
    body: '16 00 00000007 616263',
    length: { 1: '09', 2: '0009', 4: '00000009' },
  },
  {
    name: 'GOAWAY with a reason',
    message: { kind: Kind.GOAWAY, seq: 42, payload: Buffer.from('shutting down') },
    // 0x17 | flags 0 | highest seq read 42 | UTF-8 reason (13 bytes)
    body: '17 00 0000002a 7368757474696e6720646f776e',
    length: { 1: '13', 2: '0013', 4: '00000013' },
  },
  {
    name: 'GOAWAY without a request read',
    message: { kind: Kind.GOAWAY, seq: 0, payload: Buffer.alloc(0) },
    body: '17 00 00000000',
    length: { 1: '06', 2: '0006', 4: '00000006' },
  },
  {
    name: 'CANCEL',
    message: { kind: Kind.CANCEL, seq: 3, payload: Buffer.alloc(0) },
    // 0x18 | flags 0 | the seq given up
    body: '18 00 00000003',
    length: { 1: '06', 2: '0006', 4: '00000006' },
  },
  {
    name: 'CANCEL at the deadline',
    message: { kind: Kind.CANCEL, seq: 3, expired: true, payload: Buffer.alloc(0) },
    // 0x18 | flags DEADLINE (no field follows) | the seq given up
    body: '18 01 00000003',
    length: { 1: '06', 2: '0006', 4: '00000006' },
  },
];

describe('golden frames (hand-encoded from the wire format spec)', () => {
  describe.each(kGolden)('$name', ({ message, body, length }) => {
    it.each([1, 2, 4] as const)('encodes with a %i-byte length header', (lengthHeader) => {
      const expected = hex(length[lengthHeader] + body);
      expect(encodeMessage(message, lengthHeader).toString('hex')).toBe(expected.toString('hex'));
    });

    it('decodes the body back into the message', () => {
      expect(decodeMessage(hex(body))).toEqual(message);
    });
  });

  it('a 5-byte-method request with a deadline and no metadata has a 16-byte message header', () => {
    const payload = Buffer.from('payload');
    const frame = encodeMessage({
      kind: Kind.REQUEST,
      seq: 1,
      method: 'hello',
      timeout: 5,
      payload,
    });
    // 1 kindVersion + 1 flags + 4 seq + 1 methodLength + 5 method + 4 timeout
    expect(frame.readUInt32BE(0)).toBe(16 + payload.length);
    expect(frame.length).toBe(4 + 16 + payload.length);
    expect(frame.subarray(4 + 16).toString()).toBe('payload');
  });

  it('the longest 1-byte-header body (255 bytes) is encoded; one more byte is refused', () => {
    // RESPONSE: a 6-byte header + 249 bytes of payload = 255 (ff).
    const fits = encodeMessage(
      { kind: Kind.RESPONSE, seq: 1, payload: Buffer.alloc(249, 0xab) },
      1,
    );
    expect(fits.subarray(0, 7).toString('hex')).toBe('ff120000000001');
    expect(fits.length).toBe(256);
    const error = (() => {
      try {
        encodeMessage({ kind: Kind.RESPONSE, seq: 1, payload: Buffer.alloc(250) }, 1);
      } catch (caught) {
        return caught as Error & { code?: string };
      }
      return null;
    })();
    expect(error?.code).toBe('ERR_NETPOLL_RPC_FRAME_TOO_LARGE');
    expect(error?.message).toBe('a message of 256 bytes exceeds maxFrameSize (255)');
  });

  it('a 306-byte body: 2-byte header 0132, 4-byte header 00000132', () => {
    const message: Message = { kind: Kind.RESPONSE, seq: 1, payload: Buffer.alloc(300, 0xab) };
    expect(encodeMessage(message, 2).subarray(0, 8).toString('hex')).toBe('0132120000000001');
    expect(encodeMessage(message, 4).subarray(0, 10).toString('hex')).toBe('00000132120000000001');
  });

  it('the longest 2-byte-header body (65535 bytes) is encoded; one more byte is refused', () => {
    const fits = encodeMessage(
      { kind: Kind.RESPONSE, seq: 1, payload: Buffer.alloc(65529, 1) },
      2,
      1 << 20,
    );
    expect(fits.subarray(0, 2).toString('hex')).toBe('ffff');
    expect(fits.length).toBe(65537);
    let code: string | undefined;
    try {
      encodeMessage({ kind: Kind.RESPONSE, seq: 1, payload: Buffer.alloc(65530) }, 2, 1 << 20);
    } catch (error) {
      code = (error as { code?: string }).code;
    }
    expect(code).toBe('ERR_NETPOLL_RPC_FRAME_TOO_LARGE');
  });

  it('a payload above 4 KiB (linked, not copied, by the encoder) follows its header exactly', () => {
    const payload = Buffer.alloc(5000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) % 251;
    const frame = encodeMessage({ kind: Kind.RESPONSE, seq: 2, payload });
    expect(frame.subarray(0, 10).toString('hex')).toBe('0000138e120000000002');
    expect(frame.subarray(10).equals(payload)).toBe(true);
  });

  it('decoding keeps the last value of a repeated metadata key', () => {
    // RESPONSE, METADATA: count 2 | 1 "k" u16 1 "1" | 1 "k" u16 1 "2"
    const decoded = decodeMessage(hex('12 02 00000001 02 01 6b 0001 31 01 6b 0001 32'));
    expect(decoded.metadata).toEqual({ k: '2' });
  });

  it('the decoded payload is a copy, not a view of the frame', () => {
    const body = hex('12 00 00000001 6f6b');
    const decoded = decodeMessage(body);
    body.fill(0);
    expect(decoded.payload.toString()).toBe('ok');
  });
});
