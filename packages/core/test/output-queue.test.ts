/**
 * The output queue's submissions (fake binding, house style B.9): each flushed chunk goes to
 * native exactly once, and a flush does not walk the output already queued, however much of it
 * the peer has left unread.
 */
import { type ChunkVisitor, LinkBuffer } from '@netpoll/linkbuffer';
import * as L from '../src/layout';
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
    return (buffer, start, end, retained) => {
      this.visits++;
      return visitor(buffer, start, end, retained);
    };
  }
}

const host: OutputHost = {
  active: () => true,
  drained: () => {},
  timedOut: () => {},
  armTimer: () => {},
};

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
  const entries: Array<[op: number, slab: number, fd: number, a: number, b: number]> = [];
  // A full submission queue makes the reactor call flush(): keep what native would have seen.
  binding.flush = () => {
    entries.push(...binding.processSubmissions());
    return 0;
  };
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
    submitted() {
      entries.push(...binding.processSubmissions());
      return entries
        .filter(([op, , fd]) => op === L.kSubmitWrite && fd === kFd)
        .map(([, slab, , offset, length]) => Buffer.from(binding.slabs[slab]!, offset, length));
    },
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
    expect(Buffer.concat(writes)).toEqual(
      Buffer.concat(Array.from({ length: flushes }, (_, index) => payload(index))),
    );
    // One chunk visited per submitted write, not the whole unsent queue again at every flush.
    expect(writer.visits).toBe(writes.length);
    expect(writes.length).toBe(flushes);
    expect(queue.unsent).toBe(flushes * 1100);
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
