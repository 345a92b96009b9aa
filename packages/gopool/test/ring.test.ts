import {
  align8,
  Ctrl,
  channelBytes,
  kCtrlBytes,
  RingConsumer,
  RingProducer,
  requestBase,
} from '../src/ring';

function makeRing(size: number): {
  producer: RingProducer;
  consumer: RingConsumer;
  view: DataView;
  bytes: Uint8Array;
} {
  const sab = new SharedArrayBuffer(channelBytes(size));
  const ctrl = new Int32Array(sab, 0, kCtrlBytes / 4);
  const view = new DataView(sab);
  const args = [ctrl, view, Ctrl.reqHead, Ctrl.reqTail, requestBase(), size] as const;
  return {
    producer: new RingProducer(...args),
    consumer: new RingConsumer(...args),
    view,
    bytes: new Uint8Array(sab),
  };
}

/** Writes a record of `length` bytes whose payload byte is `fill`; returns false when full. */
function write(ring: ReturnType<typeof makeRing>, length: number, fill: number): boolean {
  const at = ring.producer.reserve(length);
  if (at < 0) return false;
  ring.view.setUint32(at, length, true);
  ring.bytes.fill(fill, at + 4, at + length);
  ring.producer.commit(length);
  return true;
}

/** Reads the next record as [length, fill], or undefined. */
function read(ring: ReturnType<typeof makeRing>): [number, number] | undefined {
  const at = ring.consumer.next();
  if (at < 0) return undefined;
  const length = ring.view.getUint32(at, true);
  const fill = ring.bytes[at + 4]!;
  ring.consumer.consume(length);
  return [length, fill];
}

describe('SPSC ring', () => {
  it('rounds record lengths up to 8 bytes', () => {
    expect([align8(1), align8(8), align8(9), align8(16)]).toEqual([8, 8, 16, 16]);
  });

  it('shows records to the consumer only once they are published, in order', () => {
    const ring = makeRing(4096);
    expect(write(ring, 16, 1)).toBe(true);
    expect(write(ring, 24, 2)).toBe(true);
    expect(ring.consumer.hasData()).toBe(false);
    expect(read(ring)).toBeUndefined();
    expect(ring.producer.publish()).toBe(true);
    expect(ring.producer.publish()).toBe(false);
    expect(read(ring)).toEqual([16, 1]);
    expect(read(ring)).toEqual([24, 2]);
    expect(read(ring)).toBeUndefined();
    expect(ring.producer.isDrained()).toBe(true);
  });

  it('refuses a record when the consumer has not freed enough room, and accepts it after', () => {
    const ring = makeRing(4096);
    expect(write(ring, 2048, 1)).toBe(true);
    expect(write(ring, 1024, 2)).toBe(true);
    expect(write(ring, 1024, 3)).toBe(true);
    expect(write(ring, 8, 4)).toBe(false);
    ring.producer.publish();
    expect(read(ring)).toEqual([2048, 1]);
    expect(write(ring, 8, 4)).toBe(true);
  });

  it('pads the end of the area and wraps a record that does not fit before it', () => {
    const ring = makeRing(4096);
    expect(write(ring, 3000, 1)).toBe(true);
    ring.producer.publish();
    expect(read(ring)).toEqual([3000, 1]);
    // 1096 bytes are left before the end; a 2000-byte record goes to offset 0 instead.
    expect(write(ring, 2000, 2)).toBe(true);
    ring.producer.publish();
    const at = ring.consumer.next();
    expect(at).toBe(requestBase());
    expect(read(ring)).toEqual([2000, 2]);
    expect(ring.consumer.position).toBe(ring.producer.position);
  });

  it('keeps positions consistent across many wraps of the 32-bit counters', () => {
    const ring = makeRing(4096);
    const lengths = [8, 40, 504, 1000, 16, 2040];
    let expected = 0;
    for (let round = 0; round < 2000; round++) {
      const length = lengths[round % lengths.length]!;
      expect(write(ring, length, round & 0xff)).toBe(true);
      ring.producer.publish();
      expect(read(ring)).toEqual([length, round & 0xff]);
      expected = (expected + length) | 0;
    }
    expect(ring.consumer.position).toBe(ring.producer.position);
  });
});
