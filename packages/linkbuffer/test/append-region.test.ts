import { inspectLinkBuffer, LinkBuffer } from '../src/link-buffer';
import { kPoisonByte } from '../src/options';
import { RecordingOwner } from './helpers/counting-allocator';
import { text } from './helpers/fill';

describe('LinkBuffer.appendRegion (borrowed read-only regions)', () => {
  it('makes the region readable at once without copying', () => {
    const slab = Buffer.from('xxhello worldxx', 'latin1');
    const owner = new RecordingOwner();
    const buffer = new LinkBuffer();
    buffer.appendRegion(slab, 2, 13, owner, 7);
    expect(buffer.len()).toBe(11);
    expect(buffer.mallocLen()).toBe(0);
    const view = buffer.next(5);
    expect(view.buffer).toBe(slab.buffer);
    expect(view.byteOffset).toBe(slab.byteOffset + 2);
    expect(text(view)).toBe('hello');
    expect(owner.released).toEqual([]);
  });

  it('calls releaseRegion exactly once, when the consumed node is released', () => {
    const slab = Buffer.alloc(64, 'a');
    const owner = new RecordingOwner();
    const buffer = new LinkBuffer();
    buffer.appendRegion(slab, 0, 10, owner, 1);
    buffer.appendRegion(slab, 10, 20, owner, 2);
    buffer.skip(15);
    buffer.release();
    expect(owner.released).toEqual([1]);
    buffer.release();
    expect(owner.released).toEqual([1]);
    buffer.close();
    expect(owner.released).toEqual([1, 2]);
    buffer.close();
    expect(owner.released).toEqual([1, 2]);
  });

  it('calls releaseRegion only after every slice of the region is released', () => {
    const slab = Buffer.from('abcdefgh', 'latin1');
    const owner = new RecordingOwner();
    const buffer = new LinkBuffer();
    buffer.appendRegion(slab, 0, 8, owner, 42);
    const first = buffer.slice(3);
    const nested = first.slice(1);
    buffer.skip(5);
    buffer.close();
    expect(owner.released).toEqual([]);
    first.close();
    expect(owner.released).toEqual([]);
    expect(nested.readString(1)).toBe('a');
    nested.release();
    expect(owner.released).toEqual([]);
    nested.close();
    expect(owner.released).toEqual([42]);
  });

  it('releases an empty region at once and adds no node', () => {
    const owner = new RecordingOwner();
    const buffer = new LinkBuffer();
    buffer.appendRegion(Buffer.alloc(4), 2, 2, owner, 9);
    expect(owner.released).toEqual([9]);
    expect(inspectLinkBuffer(buffer).nodes).toBe(1);
  });

  it('keeps order with malloc reservations: a region after a reservation is readable on flush', () => {
    const owner = new RecordingOwner();
    const buffer = new LinkBuffer();
    buffer.malloc(2).write('ab', 'latin1');
    buffer.appendRegion(Buffer.from('cd', 'latin1'), 0, 2, owner, 1);
    expect(buffer.len()).toBe(0);
    expect(buffer.mallocLen()).toBe(4);
    buffer.flush();
    expect(buffer.readString(4)).toBe('abcd');
    buffer.writeString('ef');
    buffer.flush();
    expect(buffer.readString(2)).toBe('ef');
    buffer.close();
    expect(owner.released).toEqual([1]);
  });

  it('is released when read() consumes it without exposing it', () => {
    const owner = new RecordingOwner();
    const buffer = new LinkBuffer();
    buffer.appendRegion(Buffer.from('abc', 'latin1'), 0, 3, owner, 1);
    buffer.appendRegion(Buffer.from('def', 'latin1'), 0, 3, owner, 2);
    const target = Buffer.alloc(4);
    expect(buffer.read(target)).toBe(4);
    expect(text(target)).toBe('abcd');
    expect(owner.released).toEqual([1]);
  });

  it('poisons the region in debug mode before handing it back', () => {
    const slab = Buffer.from('0123456789', 'latin1');
    const owner = new RecordingOwner();
    const buffer = new LinkBuffer({ debug: true });
    buffer.appendRegion(slab, 2, 6, owner, 3);
    buffer.appendRegion(slab, 6, 8, owner, 4);
    buffer.skip(4);
    buffer.release();
    expect(owner.released).toEqual([3]);
    expect(text(slab.subarray(0, 2))).toBe('01');
    expect(slab.subarray(2, 6).every((byte) => byte === kPoisonByte)).toBe(true);
    expect(text(slab.subarray(6))).toBe('6789');
  });

  it('moves with append() and is released by the destination', () => {
    const owner = new RecordingOwner();
    const source = new LinkBuffer();
    source.appendRegion(Buffer.from('abc', 'latin1'), 0, 3, owner, 5);
    const destination = new LinkBuffer();
    destination.append(source);
    expect(owner.released).toEqual([]);
    expect(destination.readString(3)).toBe('abc');
    destination.close();
    expect(owner.released).toEqual([5]);
  });

  it('validates its arguments', () => {
    const owner = new RecordingOwner();
    const buffer = new LinkBuffer();
    const slab = Buffer.alloc(8);
    const cases: Array<[() => unknown, string]> = [
      [
        () => buffer.appendRegion(new Uint8Array(8) as Buffer, 0, 1, owner, 1),
        'ERR_NETPOLL_INVALID_ARG',
      ],
      [() => buffer.appendRegion(slab, 0.5, 1, owner, 1), 'ERR_NETPOLL_INVALID_ARG'],
      [() => buffer.appendRegion(slab, 0, Number.NaN, owner, 1), 'ERR_NETPOLL_INVALID_ARG'],
      [() => buffer.appendRegion(slab, 3, 2, owner, 1), 'ERR_NETPOLL_OUT_OF_RANGE'],
      [() => buffer.appendRegion(slab, -1, 2, owner, 1), 'ERR_NETPOLL_OUT_OF_RANGE'],
      [() => buffer.appendRegion(slab, 0, 9, owner, 1), 'ERR_NETPOLL_OUT_OF_RANGE'],
      [() => buffer.appendRegion(slab, 0, 1, {} as never, 1), 'ERR_NETPOLL_INVALID_ARG'],
    ];
    for (const [run, code] of cases) expect(run).toThrow(expect.objectContaining({ code }));
    buffer.close();
    expect(() => buffer.appendRegion(slab, 0, 1, owner, 1)).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_CLOSED' }),
    );
    expect(owner.released).toEqual([]);
  });
});
