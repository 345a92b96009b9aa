import { OutboundAllocator } from '../src/outbound-allocator';

function registry() {
  const registered: ArrayBuffer[] = [];
  const released: number[] = [];
  return {
    registered,
    released,
    registerOutbound: (buffer: ArrayBuffer) => registered.push(buffer) - 1,
    unregisterOutbound: (index: number) => {
      released.push(index);
    },
  };
}

describe('OutboundAllocator', () => {
  it('bump-allocates 8-byte aligned regions of one registered slab', () => {
    const fake = registry();
    const allocator = new OutboundAllocator(fake, 4096);
    const a = allocator.allocate(10);
    const b = allocator.allocate(100);
    expect(fake.registered).toHaveLength(1);
    expect(a.buffer).toBe(b.buffer);
    expect(a.length).toBe(10);
    expect(b.byteOffset).toBe(16);
    expect(allocator.slabIndexOf(a.buffer)).toBe(0);
    expect(allocator.slabIndexOf(Buffer.alloc(4).buffer)).toBe(-1);
  });

  it('reuses a slab once everything in it was freed instead of registering more', () => {
    const fake = registry();
    const allocator = new OutboundAllocator(fake, 1024);
    for (let round = 0; round < 100; round++) {
      const buffers = [allocator.allocate(200), allocator.allocate(200)];
      for (const buffer of buffers) allocator.free(buffer);
    }
    expect(fake.registered.length).toBeLessThanOrEqual(2);
  });

  it('never hands out memory that is still live', () => {
    const fake = registry();
    const allocator = new OutboundAllocator(fake, 1024);
    const live = allocator.allocate(200).fill(1);
    for (let i = 0; i < 50; i++) allocator.free(allocator.allocate(200).fill(2));
    expect(live.every((byte) => byte === 1)).toBe(true);
  });

  it('hands a freed Buffer object back when a reused slab repeats the same size at its offset', () => {
    const fake = registry();
    const allocator = new OutboundAllocator(fake, 16384);
    const first = allocator.allocate(1028);
    const offset = first.byteOffset;
    allocator.free(first);
    // The slab is empty again, so the bump pointer restarts at its beginning: same offset, same size.
    const again = allocator.allocate(1028);
    expect(again).toBe(first);
    expect(again.byteOffset).toBe(offset);
    expect(again.length).toBe(1028);
    // Another size at that offset gets a fresh Buffer of exactly that size.
    allocator.free(again);
    const other = allocator.allocate(500);
    expect(other).not.toBe(first);
    expect(other.length).toBe(500);
    // A live Buffer is never handed out twice.
    const next = allocator.allocate(1028);
    expect(next).not.toBe(other);
    expect(next.byteOffset).toBeGreaterThanOrEqual(other.byteOffset + 504);
    expect(fake.registered).toHaveLength(1);
  });

  it('says where each Buffer it returns lives (lastMemory, lastByteOffset), fresh, reused or dedicated', () => {
    const fake = registry();
    const allocator = new OutboundAllocator(fake, 16384);
    const where = (buffer: Buffer) => ({ memory: buffer.buffer, byteOffset: buffer.byteOffset });
    const told = () => ({ memory: allocator.lastMemory, byteOffset: allocator.lastByteOffset });
    const first = allocator.allocate(1028);
    expect(told()).toEqual(where(first));
    const second = allocator.allocate(300);
    expect(told()).toEqual(where(second));
    expect(told().byteOffset).toBe(1032);
    // Freed with the offset given (as a LinkBuffer frees), then handed back at the same place.
    allocator.free(first, first.buffer, first.byteOffset);
    allocator.free(second, second.buffer, second.byteOffset);
    const again = allocator.allocate(1028);
    expect(again).toBe(first);
    expect(told()).toEqual(where(again));
    const big = allocator.allocate(8000); // above a quarter of the slab: dedicated
    expect(big.buffer.byteLength).toBe(8000);
    expect(told()).toEqual(where(big));
  });

  it('hands a spare Buffer back only at its own offset (two small ones share a spare slot)', () => {
    const fake = registry();
    const allocator = new OutboundAllocator(fake, 16384);
    const a = allocator.allocate(200); // offset 0
    const b = allocator.allocate(200); // offset 200, the same 1 KiB slot
    allocator.free(a, a.buffer, a.byteOffset);
    allocator.free(b, b.buffer, b.byteOffset); // the slot now keeps b, at 200
    const next = allocator.allocate(200); // the slab is empty: offset 0 again
    expect(next).not.toBe(b);
    expect(next.byteOffset).toBe(0);
    expect(allocator.lastByteOffset).toBe(0);
    const after = allocator.allocate(200); // offset 200: b's own place
    expect(after).toBe(b);
    expect(allocator.lastByteOffset).toBe(200);
  });

  it('gives large requests a dedicated registered buffer that is unregistered on free', () => {
    const fake = registry();
    const allocator = new OutboundAllocator(fake, 1024);
    const big = allocator.allocate(600);
    expect(big.byteLength).toBe(600);
    expect(big.buffer.byteLength).toBe(600);
    const index = allocator.slabIndexOf(big.buffer);
    allocator.free(big);
    expect(fake.released).toEqual([index]);
    expect(allocator.slabIndexOf(big.buffer)).toBe(-1);
  });
});
