import fc from 'fast-check';
import { BufferCache } from '../src/index';

/** One step of a random workload: allocate (size, optional capacity) or free the k-th live buffer. */
type Step =
  | { kind: 'malloc'; size: number; capacity: number | undefined }
  | { kind: 'free'; pick: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('malloc' as const),
      size: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constantFrom(512, 1024, 4096, 5000)),
      capacity: fc.option(fc.integer({ min: 0, max: 2048 }), { nil: undefined }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }) },
);

interface Live {
  buffer: Buffer;
  /** The capacity-wide view the owner is entitled to write. */
  wide: Buffer;
  tag: number;
}

describe('BufferCache property: live allocations never share memory', () => {
  it.each([
    ['debug off', false],
    ['debug on', true],
  ])('holds for random malloc/free sequences (%s)', (_, debug) => {
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 120 }),
        fc.constantFrom(0, 256, 4096),
        (steps, maxBytesPerClass) => {
          const cache = new BufferCache({
            debug,
            maxBytesPerClass,
            slabSize: 1024,
            maxPooledSize: 4096,
          });
          const live: Live[] = [];
          let nextTag = 1;
          const verify = (): void => {
            for (const entry of live) {
              // Every byte of the owner's whole capacity must still carry its own pattern.
              for (let offset = 0; offset < entry.wide.length; offset++) {
                if (entry.wide[offset] !== ((entry.tag + offset) & 0xff)) {
                  throw new Error(`allocation ${entry.tag} was overwritten at byte ${offset}`);
                }
              }
            }
          };
          for (const action of steps) {
            if (action.kind === 'malloc') {
              const buffer =
                action.capacity === undefined
                  ? cache.malloc(action.size)
                  : cache.malloc(action.size, action.capacity);
              expect(buffer.length).toBe(action.size);
              const capacity = cache.capacityOf(buffer);
              expect(capacity).toBeGreaterThanOrEqual(
                Math.max(action.size, action.capacity ?? 0, 1),
              );
              const wide = Buffer.from(buffer.buffer, buffer.byteOffset, capacity);
              const tag = nextTag++;
              for (let offset = 0; offset < wide.length; offset++)
                wide[offset] = (tag + offset) & 0xff;
              live.push({ buffer, wide, tag });
            } else if (live.length > 0) {
              const [entry] = live.splice(action.pick % live.length, 1);
              cache.free(entry!.buffer);
            }
            verify();
          }
          const stats = cache.stats();
          const pooled = live.filter((entry) => cache.capacityOf(entry.buffer) <= 4096).length;
          expect(stats.liveBuffers).toBe(pooled);
          for (const entry of stats.classes) {
            expect(entry.heldBytes).toBeLessThanOrEqual(maxBytesPerClass);
          }
          // Once everything is freed, nothing is live, and a slab survives only while a held
          // region pins it (plus each class's current carving slab): dropped memory is let go.
          for (const entry of live) cache.free(entry.buffer);
          const drained = cache.stats();
          expect(drained.liveBuffers).toBe(0);
          for (const entry of drained.classes) {
            expect(entry.slabs).toBeGreaterThanOrEqual(0);
            expect(entry.slabs).toBeLessThanOrEqual(entry.heldBuffers + 1);
            expect(entry.hits + entry.misses).toBeGreaterThanOrEqual(entry.heldBuffers);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
