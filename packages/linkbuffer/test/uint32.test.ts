/**
 * peekUint32BE() / readUint32BE(): the allocation-free length-header reads (an extension beyond
 * netpoll, whose users decode Peek(4)).
 */
import { ClosedError, NotEnoughDataError } from '../src/errors';
import { inspectLinkBuffer, LinkBuffer } from '../src/link-buffer';
import { RecordingOwner } from './helpers/counting-allocator';
import { chained, put, text } from './helpers/fill';

/** `bytes` as a latin1 string, so it can go through `put`/`chained`. */
function latin1(...bytes: number[]): string {
  return Buffer.from(bytes).toString('latin1');
}

describe('peekUint32BE / readUint32BE', () => {
  it('decode big-endian inside one node, including values of 2^31 and above', () => {
    const buffer = new LinkBuffer();
    put(buffer, latin1(0x01, 0x02, 0x03, 0x04, 0xff, 0xff, 0xff, 0xff, 0x80, 0, 0, 0, 0x2a));
    expect(buffer.peekUint32BE()).toBe(0x01020304);
    expect(buffer.peekUint32BE()).toBe(0x01020304);
    expect(buffer.len()).toBe(13);
    expect(buffer.readUint32BE()).toBe(0x01020304);
    expect(buffer.len()).toBe(9);
    expect(buffer.peekUint32BE()).toBe(4_294_967_295);
    expect(buffer.readUint32BE()).toBe(4_294_967_295);
    expect(buffer.readUint32BE()).toBe(2_147_483_648);
    expect(buffer.len()).toBe(1);
    expect(buffer.readByte()).toBe(0x2a);
  });

  it('peekUint32BE(offset) reads at an offset past the read position, in and across nodes', () => {
    // Frames of a pipelined batch: [len 2][ab][len 3][cde][len 0] spread over small nodes.
    const bytes = [0, 0, 0, 2, 0x61, 0x62, 0, 0, 0, 3, 0x63, 0x64, 0x65, 0, 0, 0, 0];
    const { buffer } = chained([
      latin1(...bytes.slice(0, 5)),
      latin1(...bytes.slice(5, 8)),
      '',
      latin1(...bytes.slice(8, 11)),
      latin1(...bytes.slice(11)),
    ]);
    expect(buffer.peekUint32BE(0)).toBe(2);
    expect(buffer.peekUint32BE(6)).toBe(3);
    expect(buffer.peekUint32BE(13)).toBe(0);
    expect(buffer.peekUint32BE(1)).toBe(0x000002 * 256 + 0x61);
    expect(buffer.len()).toBe(17);
    buffer.skip(6);
    expect(buffer.peekUint32BE()).toBe(3);
    expect(buffer.peekUint32BE(7)).toBe(0);
    const single = new LinkBuffer();
    put(single, latin1(9, 9, 0, 0, 1, 0, 7));
    expect(single.peekUint32BE(2)).toBe(0x00000100);
  });

  it('peekUint32BE(offset) reports missing bytes and rejects offsets that are not integers from 0 to 2^32 - 1', () => {
    const buffer = new LinkBuffer();
    put(buffer, latin1(1, 2, 3, 4, 5, 6));
    expect(buffer.peekUint32BE(2)).toBe(0x03040506);
    try {
      buffer.peekUint32BE(3);
      throw new Error('expected NOT_ENOUGH');
    } catch (error) {
      expect(error).toBeInstanceOf(NotEnoughDataError);
      expect(error).toMatchObject({
        code: 'ERR_NETPOLL_LINKBUFFER_NOT_ENOUGH',
        requested: 7,
        available: 6,
      });
    }
    for (const bad of [1.5, Number.NaN, 2 ** 53, 1n as never, Symbol('s') as never]) {
      expect(() => buffer.peekUint32BE(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_NETPOLL_INVALID_ARG' }),
      );
    }
    for (const bad of [-1, 2 ** 32]) {
      expect(() => buffer.peekUint32BE(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_NETPOLL_OUT_OF_RANGE' }),
      );
    }
    expect(buffer.len()).toBe(6);
  });

  it('read across node boundaries, over empty and fully consumed nodes', () => {
    const { buffer } = chained(['x', latin1(0xde), latin1(0xad, 0xbe), latin1(0xef, 0x07)]);
    buffer.skip(1); // the read node is now fully consumed: the slow path must step past it
    expect(buffer.peekUint32BE()).toBe(0xdeadbeef);
    expect(buffer.len()).toBe(5);
    expect(buffer.readUint32BE()).toBe(0xdeadbeef);
    expect(buffer.len()).toBe(1);
    expect(buffer.readByte()).toBe(0x07);

    const spaced = new LinkBuffer({ nodeSize: 1 });
    put(spaced, latin1(0x00));
    spaced.malloc(1).fill(0xaa);
    spaced.mallocAck(0); // leaves an empty spare node in the chain
    put(spaced, latin1(0x00, 0x01));
    put(spaced, latin1(0x00, 0x09));
    expect(spaced.readUint32BE()).toBe(0x00000100);
    expect(text(spaced.next(1))).toBe(latin1(0x09));
  });

  it('throw NOT_ENOUGH with requested/available and consume nothing when fewer than 4 bytes are readable', () => {
    const { buffer } = chained(['a', 'bc']);
    buffer.malloc(2).write('de', 'latin1'); // reserved bytes do not count until flush()
    for (const read of [() => buffer.peekUint32BE(), () => buffer.readUint32BE()]) {
      expect(read).toThrow(NotEnoughDataError);
      expect(read).toThrow(
        expect.objectContaining({
          code: 'ERR_NETPOLL_LINKBUFFER_NOT_ENOUGH',
          requested: 4,
          available: 3,
        }),
      );
    }
    expect(buffer.len()).toBe(3);
    buffer.flush();
    expect(buffer.readUint32BE()).toBe(0x61626364);
    expect(() => new LinkBuffer().peekUint32BE()).toThrow(
      expect.objectContaining({ requested: 4, available: 0 }),
    );
  });

  it('throw CLOSED after close()', () => {
    const buffer = new LinkBuffer();
    put(buffer, 'abcd');
    buffer.close();
    expect(() => buffer.peekUint32BE()).toThrow(ClosedError);
    expect(() => buffer.readUint32BE()).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_CLOSED' }),
    );
  });

  it('expose no node: read() frees a node consumed by them at once, unlike after peek(4)', () => {
    for (const viaView of [false, true]) {
      // Fresh bytes each round: debug mode (NETPOLL_DEBUG=1) poisons a region when it is released.
      const bytes = Buffer.from([0, 0, 0, 3, 1, 2, 3]);
      const owner = new RecordingOwner();
      const buffer = new LinkBuffer();
      buffer.appendRegion(bytes, 0, 4, owner, 1);
      buffer.appendRegion(bytes, 4, 7, owner, 2);
      const size = viaView ? buffer.peek(4).readUInt32BE(0) : buffer.peekUint32BE();
      expect(size).toBe(3);
      expect(buffer.readUint32BE()).toBe(3);
      expect(buffer.read(Buffer.alloc(1))).toBe(1);
      // A peek(4) view may still be in use, so read() keeps its node until release().
      expect(owner.released).toEqual(viaView ? [] : [1]);
      buffer.release();
      expect(owner.released).toEqual([1]);
      buffer.close();
      expect(owner.released).toEqual([1, 2]);
    }
  });

  it('peekUint32BE leaves the peek cache alone; readUint32BE resets it like every consuming read', () => {
    const { buffer } = chained([latin1(0, 0), latin1(0, 3, 1, 2, 3)]);
    const peeked = buffer.peek(5); // cross-node: a view of the peek cache
    expect(inspectLinkBuffer(buffer).peekLength).toBe(5);
    expect(buffer.peekUint32BE()).toBe(3);
    expect(inspectLinkBuffer(buffer).peekLength).toBe(5);
    expect([...peeked]).toEqual([0, 0, 0, 3, 1]);
    expect(buffer.readUint32BE()).toBe(3);
    expect(inspectLinkBuffer(buffer).peekLength).toBe(0);
    expect(text(buffer.next(3))).toBe(latin1(1, 2, 3));
  });

  it('work on read-only slices and leave the source untouched', () => {
    const { buffer } = chained([latin1(0, 0), latin1(1, 2, 9)]);
    const slice = buffer.slice(4);
    expect(buffer.len()).toBe(1);
    expect(slice.peekUint32BE()).toBe(0x0102);
    expect(slice.readUint32BE()).toBe(0x0102);
    expect(slice.len()).toBe(0);
    expect(buffer.readByte()).toBe(9);
    slice.close();
    buffer.close();
  });

  it('frame a stream of length-header frames cut at every boundary', () => {
    const frames = ['', 'a', 'hello', 'x'.repeat(300)];
    const stream = Buffer.concat(
      frames.map((frame) => {
        const header = Buffer.alloc(4);
        header.writeUInt32BE(frame.length);
        return Buffer.concat([header, Buffer.from(frame, 'latin1')]);
      }),
    );
    for (let cut = 1; cut < stream.length; cut += 7) {
      const buffer = new LinkBuffer({ nodeSize: 1 });
      const seen: string[] = [];
      const drain = () => {
        while (buffer.len() >= 4) {
          const size = buffer.peekUint32BE();
          if (buffer.len() < 4 + size) return;
          buffer.skip(4);
          seen.push(text(buffer.next(size)));
          buffer.release();
        }
      };
      put(buffer, stream.subarray(0, cut).toString('latin1'));
      drain();
      put(buffer, stream.subarray(cut).toString('latin1'));
      drain();
      expect(seen).toEqual(frames);
      expect(buffer.len()).toBe(0);
      buffer.close();
    }
  });
});
