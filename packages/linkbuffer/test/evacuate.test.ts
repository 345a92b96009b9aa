import fc from 'fast-check';
import { kPoisonByte, LinkBuffer } from '../src';

/** A region owner that counts releases per token. */
function regionOwner() {
  const released = new Map<number, number>();
  return {
    released,
    owner: {
      releaseRegion: (token: number) => released.set(token, (released.get(token) ?? 0) + 1),
    },
  };
}

function region(text: string): Buffer {
  return Buffer.from(`..${text}..`, 'latin1');
}

describe('LinkBuffer.evacuate()', () => {
  it('moves unviewed region bytes into allocated memory and gives the regions back', () => {
    const { owner, released } = regionOwner();
    const buffer = new LinkBuffer({ debug: true });
    const slabs = [region('abcd'), region('efgh'), region('ijkl')];
    for (const [index, slab] of slabs.entries()) buffer.appendRegion(slab, 2, 6, owner, index + 1);
    buffer.skip(1);
    const view = buffer.peek(3); // bytes of the first region only: that region stays
    expect(view.toString('latin1')).toBe('bcd');
    expect(buffer.evacuate()).toBe(8);
    expect([...released.keys()].sort()).toEqual([2, 3]);
    // The regions that went back were poisoned (debug); the buffer reads its copies.
    expect(slabs[1]!.subarray(2, 6).every((byte) => byte === kPoisonByte)).toBe(true);
    expect(view.toString('latin1')).toBe('bcd');
    expect(buffer.len()).toBe(11);
    // New bytes join after the evacuated tail (the flush and write cursors moved with it).
    buffer.appendRegion(region('mnop'), 2, 6, owner, 4);
    buffer.writeString('qr');
    buffer.flush();
    expect(buffer.readString(buffer.len())).toBe('bcdefghijklmnopqr');
    // After release() the first region's view is over, and it can move too.
    buffer.release();
    buffer.appendRegion(region('stuv'), 2, 6, owner, 5);
    buffer.peek(2);
    buffer.release();
    expect(buffer.evacuate()).toBe(4);
    expect(released.get(5)).toBe(1);
    expect(buffer.readString(4)).toBe('stuv');
    buffer.close();
    for (let token = 1; token <= 5; token++) expect(released.get(token)).toBe(1);
  });

  it('leaves reservations, allocated memory and an empty buffer alone', () => {
    const { owner, released } = regionOwner();
    const buffer = new LinkBuffer();
    expect(buffer.evacuate()).toBe(0);
    buffer.writeString('own memory');
    buffer.flush();
    expect(buffer.evacuate()).toBe(0);
    buffer.malloc(3);
    buffer.appendRegion(region('rsvd'), 2, 6, owner, 1); // joins the reservation: not readable
    expect(buffer.evacuate()).toBe(0);
    expect(released.size).toBe(0);
    buffer.close();
    expect(() => buffer.evacuate()).toThrow(
      expect.objectContaining({ code: 'ERR_NETPOLL_CLOSED' }),
    );
  });

  it('never changes the content or a live view, whatever the interleaving', () => {
    type Op =
      | { kind: 'region'; size: number; shared: boolean }
      | { kind: 'peek' | 'next' | 'skip' | 'read'; size: number }
      | { kind: 'release' | 'evacuate' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        kind: fc.constant('region' as const),
        size: fc.integer({ min: 1, max: 40 }),
        shared: fc.boolean(),
      }),
      fc.record({
        kind: fc.constantFrom('peek' as const, 'next' as const, 'skip' as const, 'read' as const),
        size: fc.integer({ min: 0, max: 60 }),
      }),
      fc.record({ kind: fc.constantFrom('release' as const, 'evacuate' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const { owner, released } = regionOwner();
        const buffer = new LinkBuffer({ debug: true, nodeSize: 16 });
        const shared = Buffer.alloc(80 * 40);
        let sharedAt = 0;
        let model: number[] = [];
        let counter = 0;
        let tokens = 0;
        // A peek across nodes is a view of the buffer's one peek cache: valid until the next peek.
        let held: Array<[Buffer, number[], boolean]> = [];
        for (const step of ops) {
          switch (step.kind) {
            case 'region': {
              const slab = step.shared ? shared : Buffer.alloc(step.size);
              const start = step.shared ? sharedAt : 0;
              for (let i = 0; i < step.size; i++) slab[start + i] = counter++ & 0xff;
              if (step.shared) sharedAt += step.size;
              buffer.appendRegion(slab, start, start + step.size, owner, ++tokens);
              model.push(...slab.subarray(start, start + step.size));
              break;
            }
            case 'peek':
            case 'next': {
              const n = Math.min(step.size, model.length);
              const peek = step.kind === 'peek';
              if (peek) held = held.filter(([, , peeked]) => !peeked);
              const view = peek ? buffer.peek(n) : buffer.next(n);
              const expected = model.slice(0, n);
              expect([...view]).toEqual(expected);
              held.push([view, expected, peek]);
              if (step.kind === 'next') model = model.slice(n);
              break;
            }
            case 'skip':
            case 'read': {
              const n = Math.min(step.size, model.length);
              if (step.kind === 'skip') buffer.skip(n);
              else expect([...buffer.readBinary(n)]).toEqual(model.slice(0, n));
              model = model.slice(n);
              break;
            }
            case 'release':
              buffer.release();
              held = [];
              break;
            case 'evacuate':
              buffer.evacuate();
              break;
          }
          for (const [view, expected] of held) expect([...view]).toEqual(expected);
          expect(buffer.len()).toBe(model.length);
        }
        expect([...buffer.readBinary(buffer.len())]).toEqual(model);
        buffer.close();
        for (let token = 1; token <= tokens; token++) expect(released.get(token)).toBe(1);
      }),
      { numRuns: 400 },
    );
  });
});
