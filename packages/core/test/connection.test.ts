/**
 * Connection rules checked without the addon (fake binding): the processing loop,
 * close ordering and the write submissions. Real-socket versions live in test/native/.
 */
import { LinkBuffer } from '@netpoll/linkbuffer';
import { Connection } from '../src/connection';
import type { ConnectionOwner } from '../src/connection-owner';
import * as L from '../src/layout';
import { kDefaultConnectionOptions } from '../src/options';
import { Reactor } from '../src/reactor';
import { createFakeBinding, type FakeBinding } from './helpers/fake-binding';

const kFd = 9;

function setup(owner: ConnectionOwner | null = null): {
  binding: FakeBinding;
  reactor: Reactor;
  connection: Connection;
  deliver(text: string): void;
} {
  const binding = createFakeBinding();
  const reactor = new Reactor(binding);
  const connection = new Connection(reactor, kFd, 'tcp', kDefaultConnectionOptions, owner);
  let offset = 0;
  return {
    binding,
    reactor,
    connection,
    deliver(text: string) {
      const slab = Buffer.from(binding.slabs[0]!);
      slab.write(text, offset, 'latin1');
      binding.emitBatch([[L.kRecordData, 0, kFd, offset, text.length]]);
      offset += text.length;
    },
  };
}

function owner(events: string[]): ConnectionOwner {
  return {
    reportError: (error) => events.push(`error:${error.message}`),
    peerClosed: () => events.push('peer-closed'),
    finalized: () => events.push('finalized'),
    released: () => events.push('released'),
  };
}

describe('Connection (fake binding)', () => {
  it('ignores a null or undefined handler and close callback, and rejects other non-functions', () => {
    const { connection, deliver } = setup();
    connection.setOnRequest(null);
    connection.setOnRequest(undefined);
    connection.addCloseCallback(null);
    connection.addCloseCallback(undefined);
    expect(connection.hasHandler).toBe(false);
    expect(() => connection.setOnRequest(5 as never)).toThrow(
      expect.objectContaining({
        code: 'ERR_NETPOLL_INVALID_ARG',
        message: 'handler must be a function, null or undefined (received 5)',
      }),
    );
    expect(() => connection.addCloseCallback('x' as never)).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_INVALID_ARG' }),
    );
    deliver('ab');
    expect(connection.reader.len()).toBe(2);
  });

  it('rejects waitFor(n) for an n that is not a safe integer, and resolves n <= 0 at once', async () => {
    const { connection } = setup();
    await expect(connection.reader.waitFor(0)).resolves.toBeUndefined();
    await expect(connection.reader.waitFor(-3)).resolves.toBeUndefined();
    for (const bad of [Number.NaN, 1.5, '4' as unknown as number, Number.POSITIVE_INFINITY]) {
      await expect(connection.reader.waitFor(bad)).rejects.toMatchObject({
        code: 'ERR_NETPOLL_INVALID_ARG',
      });
    }
  });

  it('re-runs the handler while input remains: 5 bytes, 1 per call, 5 calls', () => {
    const { connection, deliver } = setup();
    const seen: string[] = [];
    connection.setOnRequest((c) => {
      seen.push(String.fromCharCode(c.reader.readByte()));
    });
    deliver('hello');
    expect(seen.join('')).toBe('hello');
  });

  it('lets go of its consumed last slab region as soon as the handler returns', () => {
    const { binding, connection, deliver } = setup();
    const seen: string[] = [];
    connection.setOnRequest((c) => {
      seen.push(c.reader.readString(c.reader.len()));
    });
    deliver('ping');
    // A LinkBuffer keeps its last node even when fully read; the reader's release() after the
    // handler drops it, so an idle connection does not keep slab 0 referenced.
    expect(binding.control()[L.kSlabRefBase]).toBe(0);
    expect(connection.reader.len()).toBe(0);
    deliver('pong');
    expect(seen).toEqual(['ping', 'pong']);
    expect(binding.control()[L.kSlabRefBase]).toBe(0);
    deliver('again');
    expect(seen).toEqual(['ping', 'pong', 'again']);
  });

  it('without a handler, reader.release() after reading everything lets go of the slab region', () => {
    const { binding, connection, deliver } = setup();
    deliver('reply');
    expect(binding.control()[L.kSlabRefBase]).toBe(1);
    expect(connection.reader.readString(3)).toBe('rep');
    connection.reader.release(); // bytes left: the region stays
    expect(binding.control()[L.kSlabRefBase]).toBe(1);
    expect(connection.reader.readString(2)).toBe('ly');
    connection.reader.release();
    expect(binding.control()[L.kSlabRefBase]).toBe(0);
    deliver('next');
    expect(connection.reader.readString(4)).toBe('next');
  });

  it('drops bytes that arrive after a local close() while a handler still runs', async () => {
    const events: string[] = [];
    const { binding, connection, deliver } = setup(owner(events));
    let finish!: () => void;
    connection.setOnRequest((c) => {
      c.reader.skip(c.reader.len());
      c.close();
      return new Promise<void>((resolve) => {
        finish = resolve;
      });
    });
    deliver('first');
    expect(binding.control()[L.kSlabRefBase]).toBe(1); // the region of 'first', still the handler's
    deliver('late bytes');
    expect(connection.reader.len()).toBe(0);
    expect(binding.control()[L.kSlabRefBase]).toBe(1); // the late bytes' reference was dropped
    finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(['finalized']);
    expect(binding.control()[L.kSlabRefBase]).toBe(0);
  });

  it('keeps the slab region while the handler leaves bytes unread', () => {
    const { binding, connection, deliver } = setup();
    connection.setOnRequest((c) => {
      if (c.reader.len() >= 4) c.reader.skip(4);
    });
    deliver('abcdef');
    expect(connection.reader.len()).toBe(2);
    expect(binding.control()[L.kSlabRefBase]).toBe(1);
    deliver('gh');
    expect(connection.reader.len()).toBe(0);
    expect(binding.control()[L.kSlabRefBase]).toBe(0);
  });

  it('lets go of the last slab region once an async handler settles', async () => {
    const { binding, connection, deliver } = setup();
    let finish!: () => void;
    const text: string[] = [];
    connection.setOnRequest(async (c) => {
      text.push(c.reader.readString(c.reader.len()));
      await new Promise<void>((resolve) => {
        finish = resolve;
      });
    });
    deliver('slow');
    expect(binding.control()[L.kSlabRefBase]).toBe(1);
    finish();
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(text).toEqual(['slow']);
    expect(binding.control()[L.kSlabRefBase]).toBe(0);
  });

  it('keeps the input of a connection without a handler until its user releases it', () => {
    const { binding, connection, deliver } = setup();
    deliver('data');
    const view = connection.reader.next(4);
    deliver('more'); // a batch with other records does not take the region away
    expect(binding.control()[L.kSlabRefBase]).toBe(2);
    expect(view.toString('latin1')).toBe('data');
    connection.reader.release(); // 'more' is still unread: only the first region goes
    expect(binding.control()[L.kSlabRefBase]).toBe(1);
    connection.reader.skip(4);
    connection.reader.release();
    expect(binding.control()[L.kSlabRefBase]).toBe(0);
  });

  it('does not spin on a handler that consumes nothing; more data runs it again', () => {
    const { connection, deliver } = setup();
    let calls = 0;
    connection.setOnRequest(() => {
      calls++;
    });
    deliver('ab');
    expect(calls).toBe(1);
    deliver('c');
    expect(calls).toBe(2);
    expect(connection.reader.len()).toBe(3);
  });

  it('runs an async handler serially: data arriving meanwhile waits for it', async () => {
    const { connection, deliver } = setup();
    const order: string[] = [];
    let release!: () => void;
    connection.setOnRequest(async (c) => {
      const text = c.reader.readString(c.reader.len());
      order.push(`start:${text}`);
      if (text === 'a') await new Promise<void>((resolve) => (release = resolve));
      order.push(`end:${text}`);
    });
    deliver('a');
    deliver('b');
    expect(order).toEqual(['start:a']);
    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['start:a', 'end:a', 'start:b', 'end:b']);
  });

  it('close() inside a handler runs close callbacks after it returns, newest first, once', () => {
    const events: string[] = [];
    const { connection, deliver, binding } = setup(owner(events));
    connection.addCloseCallback(() => events.push('first'));
    connection.addCloseCallback((c) => events.push(`second:${c.isActive()}`));
    connection.setOnRequest((c) => {
      c.reader.skip(1);
      c.close();
      c.close();
      events.push('handler-returns');
    });
    deliver('x');
    expect(events).toEqual(['handler-returns', 'second:false', 'first', 'finalized']);
    // The close lingers for the default lingerTimeout if the peer is owed bytes.
    expect(binding.processSubmissions()).toEqual([[L.kSubmitClose, 0, kFd, 5000, 0]]);
  });

  it('flush() queues one write submission per chunk of outbound memory, no native call', () => {
    const { connection, reactor, binding } = setup();
    connection.writer.writeString('hello');
    const calls = reactor.stats().jsToNativeCalls;
    connection.writer.flush();
    const entries = binding.processSubmissions();
    expect(entries).toHaveLength(1);
    const [op, slab, fd, offset, length] = entries[0]!;
    expect([op, fd, length]).toEqual([L.kSubmitWrite, kFd, 5]);
    expect(Buffer.from(binding.slabs[slab]!, offset, length).toString()).toBe('hello');
    // The only native call was registering the outbound slab itself (once per reactor).
    expect(reactor.stats().jsToNativeCalls - calls).toBeLessThanOrEqual(1);
    expect(connection.pendingBytes).toBe(5);
    binding.fdState()[kFd * L.kFdStateInts + L.kFdWritten] = 5;
    expect(connection.pendingBytes).toBe(0);
    connection.writer.writeString('world');
    connection.writer.flush();
    const [next] = binding.processSubmissions();
    expect(Buffer.from(binding.slabs[next![1]]!, next![3], next![4]).toString()).toBe('world');
  });

  it('connection.writer is write-only: no LinkBuffer read, skip, release or close', () => {
    const { connection } = setup();
    const writer = connection.writer as unknown as Record<string, unknown>;
    expect(connection.writer).not.toBeInstanceOf(LinkBuffer);
    for (const method of [
      'next',
      'skip',
      'readBinary',
      'slice',
      'release',
      'trim',
      'close',
      'len',
    ]) {
      expect(writer[method]).toBeUndefined();
    }
    connection.writer.writeString('abc');
    expect(connection.writer.mallocLen()).toBe(3);
  });

  it('a peer hang-up makes the connection inactive and rejects a pending wait with EOF', async () => {
    const events: string[] = [];
    const { connection, binding } = setup(owner(events));
    const waiting = connection.reader.waitFor(4);
    binding.emitBatch([[L.kRecordHangup, 0, kFd, 0, 0]]);
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_NETPOLL_EOF' });
    expect(connection.isActive()).toBe(false);
    expect(events).toEqual(['peer-closed', 'finalized']);
  });

  it('a throwing handler closes the connection and reports the error', () => {
    const events: string[] = [];
    const { connection, deliver } = setup(owner(events));
    connection.setOnRequest(() => {
      throw new Error('boom');
    });
    deliver('x');
    expect(connection.isActive()).toBe(false);
    expect(events).toEqual(['error:boom', 'finalized']);
  });
});
