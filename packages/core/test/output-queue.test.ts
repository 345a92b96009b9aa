/**
 * The output path without the addon (fake binding): each flushed chunk goes to
 * native exactly once, a flush does not walk the output already queued, however much of it the
 * peer has left unread, and the connection writer's integer writes reach native as big-endian bytes.
 */
import { type ChunkVisitor, LinkBuffer } from '@netpoll/linkbuffer';
import { Connection } from '../src/connection';
import * as L from '../src/layout';
import { kDefaultConnectionOptions } from '../src/options';
import { type OutputHost, OutputQueue } from '../src/output-queue';
import { Reactor } from '../src/reactor';
import { createFakeBinding, type FakeBinding } from './helpers/fake-binding';

const kFd = 9;

/** A writer that counts the chunks its chunk walks hand out, whichever walk the queue uses. */
class CountingWriter extends LinkBuffer {
  visits = 0;

  override forEachChunk(visitor: ChunkVisitor, maxChunks?: number): number {
    return super.forEachChunk(this.#counted(visitor), maxChunks);
  }

  override forEachNewChunk(visitor: ChunkVisitor): number {
    return super.forEachNewChunk(this.#counted(visitor));
  }

  #counted(visitor: ChunkVisitor): ChunkVisitor {
    return (buffer, start, end, retained, memory, memoryOffset) => {
      this.visits++;
      return visitor(buffer, start, end, retained, memory, memoryOffset);
    };
  }
}

const host: OutputHost = {
  active: () => true,
  drained: () => {},
  outputFull: () => {},
  timedOut: () => {},
  armTimer: () => {},
};

/** Captures native's view of the submission queue, including flushes forced by a full queue. */
function captureSubmissions(binding: FakeBinding): () => Buffer[] {
  const entries: Array<[op: number, slab: number, fd: number, a: number, b: number]> = [];
  binding.flush = () => {
    entries.push(...binding.processSubmissions());
    return 0;
  };
  return () => {
    entries.push(...binding.processSubmissions());
    return entries
      .filter(([op, , fd]) => op === L.kSubmitWrite && fd === kFd)
      .map(([, slab, , offset, length]) => Buffer.from(binding.slabs[slab]!, offset, length));
  };
}

function setup(): {
  binding: FakeBinding;
  writer: CountingWriter;
  queue: OutputQueue;
  /** The bytes of every write submitted so far, in order, one Buffer per submission. */
  submitted(): Buffer[];
  /** Pretends native wrote `total` bytes of the fd's stream so far. */
  written(total: number): void;
} {
  const binding = createFakeBinding();
  const submitted = captureSubmissions(binding);
  const reactor = new Reactor(binding);
  const writer = new CountingWriter({ allocator: reactor.outbound, nodeSize: 1024 });
  const queue = new OutputQueue(reactor, writer, kFd, host, {
    highWaterMark: 1 << 30,
    writeTimeout: 0,
  });
  return {
    binding,
    writer,
    queue,
    submitted,
    written(total) {
      binding.fdState()[kFd * L.kFdStateInts + L.kFdWritten] = total;
    },
  };
}

/** 1100 bytes that tell flush `index` apart from its neighbours. */
function payload(index: number): Buffer {
  const bytes = Buffer.alloc(1100, index & 0xff);
  bytes.writeUInt32BE(index, 0);
  return bytes;
}

describe('OutputQueue submissions (fake binding)', () => {
  it('hands each flushed chunk to native once and walks only the new chunks, with nothing sent', () => {
    const { writer, queue, submitted } = setup();
    const flushes = 300;
    for (let index = 0; index < flushes; index++) {
      writer.writeBinary(payload(index));
      writer.flush();
      queue.submit();
    }
    const writes = submitted();
    const expected = Buffer.concat(Array.from({ length: flushes }, (_, index) => payload(index)));
    expect(Buffer.concat(writes).equals(expected)).toBe(true);
    // One chunk visited per submitted write, not the whole unsent queue again at every flush.
    expect(writer.visits).toBe(writes.length);
    expect(writes.length).toBe(flushes);
    expect(queue.unsent).toBe(flushes * 1100);
  });

  it("queues the writer's own memory in place, not a copy of it", () => {
    const { writer, queue, submitted } = setup();
    writer.writeBinary(payload(7));
    writer.flush();
    const chunks: Array<{ memory: ArrayBufferLike; offset: number }> = [];
    writer.forEachChunk((_buffer, start, _end, _retained, memory, memoryOffset) => {
      chunks.push({ memory, offset: memoryOffset + start });
    });
    queue.submit();
    const writes = submitted();
    expect(writes).toHaveLength(1);
    expect(writes[0]).toEqual(payload(7));
    // The submission points at the writer's node: no copy into fresh outbound memory.
    expect(writes[0]!.buffer).toBe(chunks[0]!.memory);
    expect(writes[0]!.byteOffset).toBe(chunks[0]!.offset);
  });

  it('submits only the new bytes after native wrote part of the queue', () => {
    const { writer, queue, submitted, written } = setup();
    for (let index = 0; index < 3; index++) {
      writer.writeBinary(payload(index));
      writer.flush();
      queue.submit();
    }
    written(1650); // one and a half flushes sent: the writer skips and releases them
    writer.writeBinary(payload(3));
    writer.flush();
    queue.submit();
    expect(queue.acked).toBe(1650);
    expect(queue.unsent).toBe(4 * 1100 - 1650);
    expect(writer.len()).toBe(4 * 1100 - 1650);
    written(4400); // everything sent
    writer.writeString('tail');
    writer.flush();
    queue.submit();
    expect(queue.unsent).toBe(4);
    const writes = submitted();
    expect(writes.map((bytes) => bytes.length)).toEqual([1100, 1100, 1100, 1100, 4]);
    expect(writes[3]).toEqual(payload(3));
    expect(writes[4]!.toString('latin1')).toBe('tail');
    expect(writer.visits).toBe(5);
  });
});

describe('ConnectionWriter integer writes (fake binding)', () => {
  it('send big-endian bytes and fail with ERR_NETPOLL_CONN_CLOSED once the connection closed', () => {
    const binding = createFakeBinding();
    const submitted = captureSubmissions(binding);
    const connection = new Connection(
      new Reactor(binding),
      kFd,
      'tcp',
      kDefaultConnectionOptions,
      null,
    );
    const { writer } = connection;
    writer.writeUint16BE(0x0102);
    writer.writeUint32BE(0x03040506);
    writer.writeBigUint64BE(0x0708090a0b0c0d0en);
    expect(writer.mallocLen()).toBe(14);
    writer.flush();
    expect([...Buffer.concat(submitted())]).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    ]);
    expect(() => writer.writeUint16BE(65536)).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_OUT_OF_RANGE' }),
    );
    connection.close();
    for (const [write, when] of [
      [() => writer.writeUint16BE(1), 'when write uint16'],
      [() => writer.writeUint32BE(1), 'when write uint32'],
      [() => writer.writeBigUint64BE(1n), 'when write uint64'],
    ] as const) {
      expect(write).toThrow(
        expect.objectContaining({
          code: 'ERR_NETPOLL_CONN_CLOSED',
          message: `connection has been closed ${when}`,
        }),
      );
    }
  });
});

describe('OutputQueue write timeout (fake binding)', () => {
  it('closes one timeout after output last moved under backpressure, not two', () => {
    const binding = createFakeBinding();
    const reactor = new Reactor(binding);
    const writer = new LinkBuffer({ allocator: reactor.outbound, nodeSize: 1024 });
    let timedOutAt = -1;
    let now = 0;
    const queue = new OutputQueue(
      reactor,
      writer,
      kFd,
      { ...host, timedOut: () => (timedOutAt = now) },
      { highWaterMark: 1 << 30, writeTimeout: 400 },
    );
    const fd = binding.fdState();
    fd[kFd * L.kFdStateInts + L.kFdFlags] = L.kFdFlagBackpressure; // the kernel pushes back
    writer.writeBinary(Buffer.alloc(10_000, 1));
    writer.flush();
    queue.submit();
    // When the queue armed the timeout (its clock, read inside submit()): its first check is a
    // quarter of the timeout later. Simulated time goes on from there, so a slow test machine
    // cannot shift the figures.
    const armed = queue.deadline - 400 / 4;
    // The peer reads a little 150 ms in, then nothing more.
    let moved = false;
    for (now = queue.deadline; timedOutAt < 0 && now < armed + 5000; now = queue.deadline) {
      if (!moved && now >= armed + 150) {
        fd[kFd * L.kFdStateInts + L.kFdWritten] = 1000;
        moved = true;
      }
      queue.checkTimeout(now);
    }
    // Output last moved between 150 and 200 ms (the check that saw it): closed 400 ms after that.
    expect(Math.round(timedOutAt - armed)).toBeGreaterThanOrEqual(150 + 400);
    expect(Math.round(timedOutAt - armed)).toBeLessThanOrEqual(200 + 400);
  });
});
