/**
 * encodeMessage and encodeMetadata refuse what the wire format cannot carry, with coded errors
 * whose messages name the path, what was expected and what was received.
 */
import { encodeMessage, InvalidArgumentError, isNetpollError, Kind, type Message } from '../src';
import { encodeMetadata } from '../src/protocol/encode';
import { thrown } from './helpers/server';

function request(fields: Partial<Message>): Message {
  return { kind: Kind.REQUEST, seq: 1, method: 'echo', payload: Buffer.alloc(0), ...fields };
}

function expectInvalid(fn: () => unknown, message: string): void {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(InvalidArgumentError);
  expect(error).toBeInstanceOf(TypeError);
  expect(isNetpollError(error)).toBe(true);
  expect(error.code).toBe('ERR_NETPOLL_INVALID_ARG');
  expect(error.message).toBe(message);
}

describe('encodeMessage argument errors', () => {
  it.each([
    ['an empty method', '', '""'],
    ['a method with a space', 'get user', '"get user"'],
    ['a non-ASCII method', 'grüß', '"grüß"'],
    ['a method with a control character', 'a\nb', '"a\\nb"'],
    ['a 256-character method', 'm'.repeat(256), `"${'m'.repeat(32)}…"`],
  ])('refuses %s', (_name, method, received) => {
    expectInvalid(
      () => encodeMessage(request({ method })),
      `message.method must be 1 to 255 printable ASCII characters (received ${received})`,
    );
  });

  it('refuses a REQUEST or ONE_WAY without a method', () => {
    for (const kind of [Kind.REQUEST, Kind.ONE_WAY]) {
      expectInvalid(
        () => encodeMessage({ kind, seq: 1, payload: Buffer.alloc(0) }),
        'message.method must be 1 to 255 printable ASCII characters (received undefined)',
      );
    }
  });

  it('accepts a 255-character method', () => {
    const frame = encodeMessage(request({ method: 'm'.repeat(255) }));
    expect(frame[4 + 6]).toBe(255);
  });

  it('refuses an ERROR without a code or with a bad one', () => {
    const error = (code?: string): Message => ({
      kind: Kind.ERROR,
      seq: 1,
      code,
      message: 'x',
      payload: Buffer.alloc(0),
    });
    expectInvalid(
      () => encodeMessage(error()),
      'message.code must be 1 to 255 printable ASCII characters (received undefined)',
    );
    expectInvalid(
      () => encodeMessage(error('NOT FOUND')),
      'message.code must be 1 to 255 printable ASCII characters (received "NOT FOUND")',
    );
  });

  it('refuses an unknown kind', () => {
    expectInvalid(
      () => encodeMessage({ kind: 9 as never, seq: 1, payload: Buffer.alloc(0) }),
      'message.kind must be a message kind from 1 to 8 (received 9)',
    );
  });

  it('refuses a message above maxFrameSize (ERR_NETPOLL_RPC_FRAME_TOO_LARGE)', () => {
    const error = thrown(() =>
      encodeMessage(request({ method: 'echo', payload: Buffer.alloc(100) }), 4, 100),
    );
    expect(isNetpollError(error)).toBe(true);
    expect(error.code).toBe('ERR_NETPOLL_RPC_FRAME_TOO_LARGE');
    // 6 fixed + 1 + 4 "echo" + 100 payload
    expect(error.message).toBe('a message of 111 bytes exceeds maxFrameSize (100)');
  });
});

describe('encodeMetadata argument errors', () => {
  it('refuses more than 255 entries; 255 fit', () => {
    const entries = (count: number) =>
      Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, 'v']));
    expectInvalid(
      () => encodeMetadata(entries(256), 'options.metadata'),
      'options.metadata must be at most 255 entries (received 256)',
    );
    expect(encodeMetadata(entries(255), 'options.metadata')?.[0]).toBe(255);
    expectInvalid(
      () => encodeMessage(request({ metadata: entries(300) })),
      'message.metadata must be at most 255 entries (received 300)',
    );
  });

  it.each([
    ['an empty key', { '': 'v' }, '""'],
    ['a key with a space', { 'a b': 'v' }, '"a b"'],
    ['a non-ASCII key', { clé: 'v' }, '"clé"'],
    ['a 256-character key', { ['k'.repeat(256)]: 'v' }, `"${'k'.repeat(32)}…"`],
  ])('refuses %s', (_name, metadata, received) => {
    expectInvalid(
      () => encodeMetadata(metadata, 'options.metadata'),
      `options.metadata key must be 1 to 255 printable ASCII characters (received ${received})`,
    );
  });

  it('refuses a value longer than 65535 bytes of UTF-8, counting bytes, not characters', () => {
    expectInvalid(
      () => encodeMetadata({ big: 'x'.repeat(65536) }, 'options.metadata'),
      `options.metadata.big must be at most 65535 bytes of UTF-8 (received "${'x'.repeat(32)}…")`,
    );
    // 32768 × "é" is 32768 characters but 65536 bytes.
    expectInvalid(
      () => encodeMetadata({ big: 'é'.repeat(32768) }, 'options.metadata'),
      `options.metadata.big must be at most 65535 bytes of UTF-8 (received "${'é'.repeat(32)}…")`,
    );
    const fits = encodeMetadata({ big: `${'é'.repeat(32767)}a` }, 'options.metadata')!;
    // count | keyLength 3 "big" | u16 65535
    expect(fits.subarray(0, 7).toString('hex')).toBe('0103626967ffff');
    expect(fits.length).toBe(1 + 1 + 3 + 2 + 65535);
  });

  it.each([
    ['a number', 1, '1'],
    ['null', null, 'null'],
    ['undefined', undefined, 'undefined'],
    ['an object', {}, 'an object'],
  ])('refuses a value that is %s', (_name, value, received) => {
    expectInvalid(
      () => encodeMetadata({ key: value } as never, 'options.metadata'),
      `options.metadata.key must be a string (received ${received})`,
    );
  });

  it.each([
    ['an array', ['a'], 'an array'],
    ['null', null, 'null'],
    ['a string', 'k=v', '"k=v"'],
  ])('refuses metadata that is %s', (_name, metadata, received) => {
    expectInvalid(
      () => encodeMetadata(metadata as never, 'options.metadata'),
      `options.metadata must be an object of string values (received ${received})`,
    );
  });

  it('encodes nothing for undefined or an empty object (no METADATA flag)', () => {
    expect(encodeMetadata(undefined, 'options.metadata')).toBeNull();
    expect(encodeMetadata({}, 'options.metadata')).toBeNull();
    const frame = encodeMessage(request({ metadata: {} }));
    expect(frame[4 + 1]).toBe(0);
  });
});
