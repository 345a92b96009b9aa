import { AllocMeter, type AllocSample, sumClearIntervals } from '../src/alloc-meter';

// The meter against workloads whose allocation is known: it must read what they allocate, not
// merely something, so a meter that missed the frees of a concurrent sweep or counted a GC's
// frees as negative allocation fails here.

/** Runs `op` `perTick` times every millisecond for `ms` ms under a meter; returns its figures. */
async function measure(op: (index: number) => unknown, ms = 400, perTick = 200) {
  let ops = 0;
  let kept: unknown;
  const meter = new AllocMeter(() => ops);
  meter.start();
  const end = performance.now() + ms;
  await new Promise<void>((resolve) => {
    const tick = () => {
      for (let index = 0; index < perTick; index++) {
        kept = op(index);
        ops += 1;
      }
      if (performance.now() < end) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  const figures = await meter.stop();
  expect(kept).toBeDefined();
  expect(figures.calls).toBe(ops);
  return figures;
}

const source = Buffer.alloc(1024, 7);
const view = new Uint8Array(source.buffer, source.byteOffset, 1024);

describe('AllocMeter', () => {
  it('reads 1024 ArrayBuffer bytes per Buffer.from of a 1 KiB view (pooled: 8 KiB every 8)', async () => {
    const figures = await measure(() => Buffer.from(view));
    expect(figures.arrayBufferCalls).toBeGreaterThan(figures.calls / 4);
    expect(figures.arrayBufferBytesPerCall).toBeGreaterThan(1000);
    expect(figures.arrayBufferBytesPerCall).toBeLessThan(1050);
  });

  it('reads 1024 ArrayBuffer bytes per unpooled 1 KiB Buffer', async () => {
    const figures = await measure(() => Buffer.allocUnsafeSlow(1024));
    expect(figures.arrayBufferBytesPerCall).toBeGreaterThan(1000);
    expect(figures.arrayBufferBytesPerCall).toBeLessThan(1050);
  });

  it('reads 128 bytes per 128-byte Buffer while GCs free hundreds of thousands of dead ones', async () => {
    // With V8's concurrent ArrayBuffer sweeping left on, the frees of these sweeps land in the
    // intervals after the GCs' and the meter read anything from -13 to 75 here.
    const figures = await measure(() => Buffer.allocUnsafeSlow(128), 400, 1000);
    expect(figures.gcs).toBeGreaterThan(0);
    expect(figures.arrayBufferBytesPerCall).toBeGreaterThan(126);
    expect(figures.arrayBufferBytesPerCall).toBeLessThan(130);
  });

  it('counts no backing store for a Uint8Array of 64 bytes or fewer (V8 keeps it on the heap)', async () => {
    const figures = await measure(() => Buffer.allocUnsafeSlow(64));
    expect(figures.arrayBufferBytesPerCall).toBeLessThan(1);
    expect(figures.heapBytesPerCall).toBeGreaterThan(64);
  });

  it('reads no ArrayBuffer bytes and few heap bytes when one buffer is reused', async () => {
    const reused = Buffer.alloc(1024);
    const figures = await measure(() => source.copy(reused));
    expect(figures.arrayBufferBytesPerCall).toBeLessThan(1);
    // The timers and the meter's own samples, spread over 200 ops a tick.
    expect(figures.heapBytesPerCall).toBeLessThan(50);
  });

  it('reads the JS heap bytes of a 125-slot array (32-byte JSArray + 16 + 125 × 8)', async () => {
    const figures = await measure(() => new Array(125));
    expect(figures.gcs).toBeGreaterThan(0);
    expect(figures.heapBytesPerCall).toBeGreaterThan(1040);
    expect(figures.heapBytesPerCall).toBeLessThan(1100);
  });

  it('gives no ArrayBuffer figure when the clear intervals saw too few calls', async () => {
    const figures = await measure(() => Buffer.allocUnsafeSlow(16), 50, 1);
    expect(figures.arrayBufferCalls).toBeLessThan(1000);
    expect(figures.arrayBufferBytesPerCall).toBeNull();
  });

  it('measures one window', async () => {
    const meter = new AllocMeter(() => 0);
    await expect(meter.stop()).rejects.toThrow('not running');
    meter.start();
    expect(() => meter.start()).toThrow('one window');
    const figures = await meter.stop();
    expect(figures.calls).toBe(0);
    expect(figures.heapBytesPerCall).toBeNull();
    expect(figures.arrayBufferBytesPerCall).toBeNull();
  });
});

describe('sumClearIntervals', () => {
  // Samples every 5 ms: 100 bytes and 1 call per interval, plus a drop of 1000 bytes (a sweep)
  // in the interval that holds a GC.
  const samples: AllocSample[] = [];
  let bytes = 0;
  for (let index = 0; index <= 10; index++) {
    samples.push({ time: index * 5, arrayBuffers: bytes, calls: index });
    bytes += index === 4 ? -900 : 100;
  }

  it('takes every interval but the first when there was no GC', () => {
    expect(sumClearIntervals(samples, [])).toEqual({ bytes: 300 - 900 + 500, calls: 9 });
  });

  it('leaves out the interval of a GC and the one after it', () => {
    // The GC in [20, 25] (the sweep's interval): [20, 25] and [25, 30] are left out.
    expect(sumClearIntervals(samples, [{ start: 21, end: 22 }])).toEqual({ bytes: 700, calls: 7 });
  });

  it('leaves out every interval a long GC touches', () => {
    // [10, 15] to [30, 35], touched or following: 5 intervals out, the sweep among them; the GC
    // at 49 takes out [45, 50]. Left: [5, 10], [35, 40], [40, 45].
    const result = sumClearIntervals(samples, [
      { start: 12, end: 26 },
      { start: 49, end: 49.5 },
    ]);
    expect(result).toEqual({ bytes: 300, calls: 3 });
  });
});
