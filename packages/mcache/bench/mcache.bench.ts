/**
 * malloc+free of `@netpoll/mcache` against `Buffer.allocUnsafe` and `Buffer.alloc`, measured side
 * by side in one run against the built package (it imports '@netpoll/mcache' by name).
 *
 * Two patterns per size:
 * - pair:  allocate one buffer, touch it, release it (mcache: free; Node: drop the reference);
 * - batch: allocate 64 buffers, touch them, release all 64 (reuse is less trivially warm).
 * Candidates: mcache with the exact class size (the zero-allocation path); mcache with one odd
 * size, 3/4 of the class plus one (the block's cached odd-size view is reused); mcache with 31
 * odd sizes in the upper half of the class in turn (a new Buffer view per call);
 * Buffer.allocUnsafe; Buffer.alloc.
 *
 * Calibration (running each loop with growing counts until it takes a quarter of a sample) also
 * warms the JIT up. Every sample runs a calibrated number of operations (~`kSampleMs`);
 * candidates are interleaved within each repeat so drift hits them alike. The table shows medians
 * of `kRepeats` samples, the ratio against Buffer.allocUnsafe, and the garbage collections (count
 * and ms per million operations) observed during the samples. It prints; it never asserts.
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { BufferCache } from '@netpoll/mcache';

const kSizes = (process.env.BENCH_SIZES ?? '64,1024,4096,65536,1048576').split(',').map(Number);
const kRepeats = Number(process.env.BENCH_REPEATS ?? 7);
const kSampleMs = Number(process.env.BENCH_SAMPLE_MS ?? 150);
const kBatch = 64;

// The batch pattern holds 64 buffers at once: 64 MiB at the 1 MiB size, so its cache lets a class
// hold that much; with the default 8 MiB cap, 56 of every 64 frees at 1 MiB would be dropped.
const cache = new BufferCache({ debug: false, maxBytesPerClass: 64 * 1024 * 1024 });
let sink = 0;

type Loop = (iterations: number, size: number) => void;

// Each candidate has its own loop function so every call site stays monomorphic.
const pairLoops: Record<string, Loop> = {
  'mcache exact': (iterations, size) => {
    for (let i = 0; i < iterations; i++) {
      const buffer = cache.malloc(size);
      buffer[0] = i;
      sink ^= buffer[size - 1]!;
      cache.free(buffer);
    }
  },
  'mcache odd': (iterations, size) => {
    const odd = size - size / 4 + 1;
    for (let i = 0; i < iterations; i++) {
      const buffer = cache.malloc(odd);
      buffer[0] = i;
      sink ^= buffer[odd - 1]!;
      cache.free(buffer);
    }
  },
  'mcache varying': (iterations, size) => {
    for (let i = 0; i < iterations; i++) {
      const varying = size / 2 + 1 + ((i * 7) % 31);
      const buffer = cache.malloc(varying);
      buffer[0] = i;
      sink ^= buffer[varying - 1]!;
      cache.free(buffer);
    }
  },
  'Buffer.allocUnsafe': (iterations, size) => {
    for (let i = 0; i < iterations; i++) {
      const buffer = Buffer.allocUnsafe(size);
      buffer[0] = i;
      sink ^= buffer[size - 1]!;
    }
  },
  'Buffer.alloc': (iterations, size) => {
    for (let i = 0; i < iterations; i++) {
      const buffer = Buffer.alloc(size);
      buffer[0] = i;
      sink ^= buffer[size - 1]!;
    }
  },
};

const held: Buffer[] = new Array(kBatch);
const batchLoops: Record<string, Loop> = {
  'mcache exact': (iterations, size) => {
    for (let i = 0; i < iterations; i += kBatch) {
      for (let k = 0; k < kBatch; k++) {
        const buffer = cache.malloc(size);
        buffer[0] = k;
        held[k] = buffer;
      }
      for (let k = 0; k < kBatch; k++) {
        sink ^= held[k]![0]!;
        cache.free(held[k]!);
      }
    }
  },
  'mcache odd': (iterations, size) => {
    const odd = size - size / 4 + 1;
    for (let i = 0; i < iterations; i += kBatch) {
      for (let k = 0; k < kBatch; k++) {
        const buffer = cache.malloc(odd);
        buffer[0] = k;
        held[k] = buffer;
      }
      for (let k = 0; k < kBatch; k++) {
        sink ^= held[k]![0]!;
        cache.free(held[k]!);
      }
    }
  },
  'mcache varying': (iterations, size) => {
    for (let i = 0; i < iterations; i += kBatch) {
      for (let k = 0; k < kBatch; k++) {
        const buffer = cache.malloc(size / 2 + 1 + (((i + k) * 7) % 31));
        buffer[0] = k;
        held[k] = buffer;
      }
      for (let k = 0; k < kBatch; k++) {
        sink ^= held[k]![0]!;
        cache.free(held[k]!);
      }
    }
  },
  'Buffer.allocUnsafe': (iterations, size) => {
    for (let i = 0; i < iterations; i += kBatch) {
      for (let k = 0; k < kBatch; k++) {
        const buffer = Buffer.allocUnsafe(size);
        buffer[0] = k;
        held[k] = buffer;
      }
      for (let k = 0; k < kBatch; k++) sink ^= held[k]![0]!;
    }
  },
  'Buffer.alloc': (iterations, size) => {
    for (let i = 0; i < iterations; i += kBatch) {
      for (let k = 0; k < kBatch; k++) {
        const buffer = Buffer.alloc(size);
        buffer[0] = k;
        held[k] = buffer;
      }
      for (let k = 0; k < kBatch; k++) sink ^= held[k]![0]!;
    }
  },
};

// Garbage collections are reported asynchronously; they are attributed to a sample by time.
const gcEvents: { start: number; duration: number }[] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries())
    gcEvents.push({ start: entry.startTime, duration: entry.duration });
}).observe({ entryTypes: ['gc'] });

// Node delivers 'gc' entries some milliseconds after the collection, so wait a little.
const flushObserver = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 25));

/** Finds an iteration count (a multiple of the batch) that takes about `kSampleMs`. */
function calibrate(loop: Loop, size: number): number {
  let iterations = kBatch;
  for (;;) {
    const start = performance.now();
    loop(iterations, size);
    const elapsed = performance.now() - start;
    if (elapsed >= kSampleMs / 4) {
      return Math.max(kBatch, Math.round((iterations * kSampleMs) / elapsed / kBatch) * kBatch);
    }
    iterations *= 4;
  }
}

interface Sample {
  opsPerSecond: number;
  gcCount: number;
  gcMs: number;
  iterations: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function format(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return value.toFixed(0);
}

async function run(pattern: string, loops: Record<string, Loop>): Promise<void> {
  console.log(`\n## ${pattern}`);
  console.log(
    '| size | candidate | ops/s (median) | × allocUnsafe | GCs per 1M ops | GC ms per 1M ops |',
  );
  console.log('| ---: | --- | ---: | ---: | ---: | ---: |');
  for (const size of kSizes) {
    const names = Object.keys(loops);
    const counts = new Map(names.map((name) => [name, calibrate(loops[name]!, size)]));
    const samples = new Map<string, Sample[]>(names.map((name) => [name, []]));
    for (let repeat = 0; repeat < kRepeats; repeat++) {
      for (const name of names) {
        const iterations = counts.get(name)!;
        await flushObserver();
        const before = gcEvents.length;
        const start = performance.now();
        loops[name]!(iterations, size);
        const end = performance.now();
        await flushObserver();
        const gcs = gcEvents
          .slice(before)
          .filter((event) => event.start >= start && event.start <= end);
        samples.get(name)!.push({
          opsPerSecond: (iterations * 1000) / (end - start),
          gcCount: gcs.length,
          gcMs: gcs.reduce((total, event) => total + event.duration, 0),
          iterations,
        });
      }
    }
    const baseline = median(
      samples.get('Buffer.allocUnsafe')!.map((sample) => sample.opsPerSecond),
    );
    for (const name of names) {
      const list = samples.get(name)!;
      const ops = median(list.map((sample) => sample.opsPerSecond));
      const perMillion = (value: (sample: Sample) => number) =>
        median(list.map((sample) => (value(sample) * 1e6) / sample.iterations));
      console.log(
        `| ${size} | ${name} | ${format(ops)} | ${(ops / baseline).toFixed(2)} | ` +
          `${perMillion((sample) => sample.gcCount).toFixed(1)} | ${perMillion((sample) => sample.gcMs).toFixed(1)} |`,
      );
    }
  }
}

async function main(): Promise<void> {
  console.log(
    `# @netpoll/mcache malloc+free vs Buffer.allocUnsafe / Buffer.alloc — Node ${process.version}, ` +
      `${kRepeats} repeats × ~${kSampleMs} ms, medians`,
  );
  const arrayBuffersBefore = process.memoryUsage().arrayBuffers;
  await run('pair: allocate, touch, release', pairLoops);
  await run(`batch: allocate ${kBatch}, touch, release ${kBatch}`, batchLoops);
  const stats = cache.stats();
  console.log(
    `\nmcache after the run: hits ${stats.hits}, misses ${stats.misses}, slabs ${stats.slabs} ` +
      `(${format(stats.slabBytes)}B), held ${format(stats.heldBytes)}B; ` +
      `process arrayBuffers ${format(arrayBuffersBefore)}B → ${format(process.memoryUsage().arrayBuffers)}B ` +
      `(sink ${sink & 1})`,
  );
}

void main();
