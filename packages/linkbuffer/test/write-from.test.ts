/**
 * `writeFrom(source, n)`: moving bytes from one LinkBuffer into another's reservation without a
 * view — a copy up to 64 bytes (`kWriteFromCopyMax`), shared (reference-counted) nodes above.
 */
import { ClosedError, InvalidArgumentError, isNetpollError } from '../src/errors';
import { inspectLinkBuffer, kWriteFromCopyMax, LinkBuffer } from '../src/link-buffer';
import { CountingAllocator } from './helpers/counting-allocator';
import { put, text } from './helpers/fill';

/** A source whose bytes are a borrowed region of `memory`, with the owner's release count. */
function regionSource(memory: Buffer): { source: LinkBuffer; released: () => number } {
  let released = 0;
  const source = new LinkBuffer({ debug: true });
  source.appendRegion(memory, 0, memory.length, { releaseRegion: () => released++ }, 7);
  return { source, released: () => released };
}

function codeOf(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return isNetpollError(error) ? error.code : error;
  }
  return undefined;
}

describe('LinkBuffer.writeFrom', () => {
  it('copies up to 64 bytes: later changes to the source memory do not show', () => {
    const memory = Buffer.alloc(kWriteFromCopyMax, 0x41);
    const { source, released } = regionSource(memory);
    const sink = new LinkBuffer();
    expect(sink.writeFrom(source, kWriteFromCopyMax)).toBe(kWriteFromCopyMax);
    memory.fill(0x42);
    sink.flush();
    expect(sink.bytes().every((byte) => byte === 0x41)).toBe(true);
    expect(source.len()).toBe(0);
    source.close();
    expect(released()).toBe(1);
  });

  it('shares nodes above 64 bytes: the bytes outlive the closed source, released once at the end', () => {
    const size = kWriteFromCopyMax + 1;
    const memory = Buffer.alloc(size + 10, 0x41);
    const { source, released } = regionSource(memory);
    const sink = new LinkBuffer();
    expect(sink.writeFrom(source, size)).toBe(size);
    expect(source.len()).toBe(10);
    source.close();
    // The sink still refers to the region, so its owner has not been told yet.
    expect(released()).toBe(0);
    memory.fill(0x43, 0, 1);
    sink.flush();
    const all = sink.bytes();
    expect(all.length).toBe(size);
    expect(all.buffer).toBe(memory.buffer); // no copy
    expect(all[0]).toBe(0x43);
    expect(all.subarray(1).every((byte) => byte === 0x41)).toBe(true);
    sink.close();
    expect(released()).toBe(1);
  });

  it('bytes join the reservation in order and become readable at flush()', () => {
    const source = new LinkBuffer();
    put(source, `${'x'.repeat(5000)}tail`);
    const sink = new LinkBuffer();
    sink.malloc(2).write('<<');
    sink.writeFrom(source, 3);
    sink.writeFrom(source, 4997);
    sink.writeString('>>');
    expect(sink.len()).toBe(0);
    expect(sink.mallocLen()).toBe(2 + 5000 + 2);
    sink.flush();
    expect(text(sink.next(sink.len()))).toBe(`<<${'x'.repeat(5000)}>>`);
    expect(text(source.next(4))).toBe('tail');
  });

  it('keeps earlier views of the source valid until its next release()', () => {
    const source = new LinkBuffer({ debug: true });
    put(source, `head${'y'.repeat(6000)}`);
    const head = source.next(4);
    const sink = new LinkBuffer({ debug: true });
    sink.writeFrom(source, 10);
    sink.writeFrom(source, 5000);
    expect(text(head)).toBe('head');
    sink.flush();
    expect(text(sink.next(5010))).toBe('y'.repeat(5010));
    source.release();
    sink.close();
    source.close();
  });

  it('allocates no memory: small moves copy into the reservation node, larger ones add references', () => {
    const allocator = new CountingAllocator();
    const sink = new LinkBuffer({ allocator, nodeSize: 4096 });
    sink.malloc(1);
    sink.mallocAck(0);
    const before = allocator.allocations;
    const nodes = inspectLinkBuffer(sink).nodes;
    const source = new LinkBuffer({ allocator });
    put(source, 'z'.repeat(3000));
    const sourceAllocations = allocator.allocations - before;
    sink.writeFrom(source, 10);
    sink.writeFrom(source, kWriteFromCopyMax);
    expect(inspectLinkBuffer(sink).nodes).toBe(nodes);
    sink.writeFrom(source, 2000);
    expect(inspectLinkBuffer(sink).nodes).toBe(nodes + 1);
    expect(allocator.allocations - before).toBe(sourceAllocations);
    source.close();
    sink.flush();
    expect(text(sink.next(2074))).toBe('z'.repeat(2074));
    sink.close();
    expect(allocator.live.size).toBe(0);
  });

  it('n = 0 moves nothing; a negative n throws OUT_OF_RANGE and too few bytes NOT_ENOUGH, leaving both buffers unchanged', () => {
    const source = new LinkBuffer();
    put(source, 'abc');
    const sink = new LinkBuffer();
    expect(sink.writeFrom(source, 0)).toBe(0);
    expect(codeOf(() => sink.writeFrom(source, -2))).toBe('ERR_NETPOLL_OUT_OF_RANGE');
    expect(codeOf(() => sink.writeFrom(source, 4))).toBe('ERR_NETPOLL_LINKBUFFER_NOT_ENOUGH');
    expect(codeOf(() => sink.writeFrom(source, 5000))).toBe('ERR_NETPOLL_LINKBUFFER_NOT_ENOUGH');
    expect(source.len()).toBe(3);
    expect(sink.mallocLen()).toBe(0);
  });

  it('rejects a non-LinkBuffer source, itself, a non-integer n, read-only and closed buffers', () => {
    const source = new LinkBuffer();
    put(source, 'abcdef');
    const sink = new LinkBuffer();
    for (const attempt of [
      () => sink.writeFrom(Buffer.from('abc') as unknown as LinkBuffer, 1),
      () => sink.writeFrom(sink, 1),
      () => sink.writeFrom(source, 1.5),
      () => sink.writeFrom(source, '2' as unknown as number),
    ]) {
      expect(attempt).toThrow(InvalidArgumentError);
    }
    const readOnly = source.slice(2);
    expect(codeOf(() => readOnly.writeFrom(source, 1))).toBe('ERR_NETPOLL_LINKBUFFER_READ_ONLY');
    const closed = new LinkBuffer();
    closed.close();
    expect(() => closed.writeFrom(source, 1)).toThrow(ClosedError);
    expect(() => sink.writeFrom(closed, 1)).toThrow(ClosedError);
    expect(source.len()).toBe(4);
    expect(sink.mallocLen()).toBe(0);
  });
});
