/**
 * Length-header frame parsing: `@netpoll/linkbuffer` against `bl` (BufferList) and a
 * `Buffer.concat` parser, measured side by side in one run against the built package (it imports
 * '@netpoll/linkbuffer' by name).
 *
 * The stream: `kFrames` frames of a 4-byte big-endian length plus a payload whose size is
 * log-uniform between 16 B and 64 KiB (median ≈ 1 KiB, like an RPC mix), cut into chunks of a
 * uniformly random 1 B – 64 KiB (socket-read sized), from a fixed seed, so every contender parses
 * exactly the same bytes and boundaries. The chunk Buffers are made once, outside the timed loop.
 *
 * Memory layout (BENCH_LAYOUT), the same for every contender: every chunk is a range of one large
 * Buffer (a slab), as `@netpoll/core` receives socket reads.
 * - `interleaved` (default): 64 bytes of other data sit between consecutive chunks, as when reads
 *   of other connections land in the same slab in between. A frame that straddles two chunks
 *   must then be copied to be handed out contiguously.
 * - `slab`: the chunks lie back to back, as one connection's consecutive reads into a slab do.
 *   LinkBuffer then returns a straddling frame as one view across the chunks without copying
 *   (the other contenders do not look for this and copy as before), so this layout shows that
 *   path instead of the copying one.
 *
 * Contenders (each reads the header, takes the payload, touches its first and last byte):
 * - linkbuffer/appendRegion: each chunk is a borrowed region (no-op owner; in the slab layout a
 *   range of the stream Buffer), which is how `@netpoll/core` feeds socket slabs; frames are
 *   read as in the README's quick start:
 *   peekUint32BE(), skip(4), next(len), release().
 * - linkbuffer/appendRegion+peek(4): the same, with the header decoded from a peek(4) view, as a
 *   netpoll user writes it (Peek(4) then decode); shows what the allocation-free header saves.
 * - linkbuffer/writeBinary: each chunk goes through writeBinary() + flush() (linked without copy
 *   above 4 KiB, copied into pooled nodes otherwise); the quick-start read loop.
 * - bl: BufferList append(chunk), readUInt32BE(0), slice(4, 4 + len), consume(4 + len).
 * - Buffer.concat: keeps the unparsed tail and concatenates the next chunk onto it.
 * - bound: copies only — a reference, not a parser: the in-place walk plus the straddling-payload
 *   copies that every contender has to make in the separate layout; the distance to it is
 *   buffer-management overhead. (In the slab layout LinkBuffer skips those copies and passes it.)
 *
 * Each repeat times every contender once (a sample of `kPasses` passes), in rotating order; the
 * table shows medians over `kRepeats` of frames per CPU-second of this process (`process.cpuUsage`,
 * the stable figure on a shared machine) and per wall-clock second, each with the
 * ratio against bl. A
 * separate, untimed sample per contender runs under V8's GCProfiler for bytes allocated per frame
 * on the JS heap and the garbage collections (count and pause). It prints; it never asserts.
 * Environment knobs: BENCH_FRAMES, BENCH_REPEATS, BENCH_PASSES, BENCH_SEED, BENCH_MAX_PAYLOAD,
 * BENCH_LAYOUT (`interleaved` or `slab`).
 */
import { performance } from 'node:perf_hooks';
import { GCProfiler, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LinkBuffer, type RegionOwner } from '@netpoll/linkbuffer';

// bl 7 is ESM-only; this bench compiles to CommonJS, so it is loaded with a dynamic import.
type BufferListClass = typeof import('bl', { with: { 'resolution-mode': 'import' }}).BufferList;
let BufferList: BufferListClass;

const kFrames = Number(process.env.BENCH_FRAMES ?? 20_000);
const kRepeats = Number(process.env.BENCH_REPEATS ?? 9);
const kSeed = Number(process.env.BENCH_SEED ?? 20_261_121);
const kPasses = Number(process.env.BENCH_PASSES ?? 3);
const kMaxPayload = Number(process.env.BENCH_MAX_PAYLOAD ?? 65_536);
const kLayout = process.env.BENCH_LAYOUT ?? 'interleaved';
if (kLayout !== 'interleaved' && kLayout !== 'slab') {
  throw new Error(`BENCH_LAYOUT must be 'interleaved' or 'slab' (received ${kLayout})`);
}
/** Bytes of other data between consecutive chunks in the slab. */
const kGap = kLayout === 'slab' ? 0 : 64;

setFlagsFromString('--expose-gc');
const forceGc = runInNewContext('gc') as () => void;

/** mulberry32: a small seeded PRNG, so every run parses the same stream. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Workload {
  readonly stream: Buffer;
  readonly offsets: Uint32Array; // chunk i holds stream[offsets[i], offsets[i + 1])
  readonly slab: Buffer; // chunk i is slab[starts[i], starts[i] + its length)
  readonly starts: Uint32Array;
  readonly chunks: Buffer[]; // the same chunks as Buffers (views of the slab)
  readonly frames: number;
  readonly checksum: number;
}

function makeWorkload(): Workload {
  const random = prng(kSeed);
  const sizes: number[] = [];
  let total = 0;
  for (let i = 0; i < kFrames; i++) {
    const size = Math.round(16 * (kMaxPayload / 16) ** random()); // log-uniform in [16, max]
    sizes.push(size);
    total += 4 + size;
  }
  const stream = Buffer.allocUnsafe(total);
  let at = 0;
  let checksum = 0;
  for (const size of sizes) {
    stream.writeUInt32BE(size, at);
    for (let i = 0; i < size; i++) stream[at + 4 + i] = (i * 131 + size) & 0xff;
    checksum += stream[at + 4]! + stream[at + 3 + size]!;
    at += 4 + size;
  }
  const offsets: number[] = [0];
  while (offsets[offsets.length - 1]! < total) {
    const next = offsets[offsets.length - 1]! + 1 + Math.floor(random() * 65536);
    offsets.push(Math.min(next, total));
  }
  // Chunk i sits at offsets[i] + i * kGap in the slab; the gaps hold other bytes (0xee).
  const slab = Buffer.alloc(total + kGap * offsets.length, 0xee);
  const starts = offsets.map((start, i) => start + i * kGap);
  const chunks = offsets.slice(1).map((end, i) => {
    stream.copy(slab, starts[i]!, offsets[i]!, end);
    return slab.subarray(starts[i]!, starts[i]! + (end - offsets[i]!));
  });
  return {
    stream,
    offsets: Uint32Array.from(offsets),
    slab,
    starts: Uint32Array.from(starts),
    chunks,
    frames: kFrames,
    checksum,
  };
}

interface Outcome {
  frames: number;
  checksum: number;
}

const noopOwner: RegionOwner = { releaseRegion() {} };

/**
 * The README's quick-start loop: the header through peekUint32BE(), the payload as a view. With
 * `viaPeek` the header is decoded from a peek(4) view instead, as a netpoll user writes it.
 */
function drainLinkBuffer(buffer: LinkBuffer, outcome: Outcome, viaPeek: boolean): void {
  while (buffer.len() >= 4) {
    const size = viaPeek ? buffer.peek(4).readUInt32BE(0) : buffer.peekUint32BE();
    if (buffer.len() < 4 + size) return;
    buffer.skip(4);
    const payload = buffer.next(size);
    outcome.checksum += payload[0]! + payload[size - 1]!;
    outcome.frames++;
    buffer.release();
  }
}

function feedRegions({ slab, starts, chunks }: Workload, viaPeek: boolean): Outcome {
  const outcome = { frames: 0, checksum: 0 };
  const buffer = new LinkBuffer();
  for (let i = 0; i < chunks.length; i++) {
    // The slab is passed whole with the region's bounds, as @netpoll/core does.
    buffer.appendRegion(slab, starts[i]!, starts[i]! + chunks[i]!.length, noopOwner, i);
    drainLinkBuffer(buffer, outcome, viaPeek);
  }
  buffer.close();
  return outcome;
}

const contenders: Record<string, (workload: Workload) => Outcome> = {
  'linkbuffer/appendRegion': (workload) => feedRegions(workload, false),
  'linkbuffer/appendRegion+peek(4)': (workload) => feedRegions(workload, true),
  'linkbuffer/writeBinary': ({ chunks }) => {
    const outcome = { frames: 0, checksum: 0 };
    const buffer = new LinkBuffer();
    for (const chunk of chunks) {
      buffer.writeBinary(chunk);
      buffer.flush();
      drainLinkBuffer(buffer, outcome, false);
    }
    buffer.close();
    return outcome;
  },
  bl: ({ chunks }) => {
    const outcome = { frames: 0, checksum: 0 };
    const list = new BufferList();
    for (const chunk of chunks) {
      list.append(chunk);
      while (list.length >= 4) {
        const size = list.readUInt32BE(0);
        if (list.length < 4 + size) break;
        const payload = list.slice(4, 4 + size);
        outcome.checksum += payload[0]! + payload[size - 1]!;
        outcome.frames++;
        list.consume(4 + size);
      }
    }
    return outcome;
  },
  'Buffer.concat': ({ chunks }) => {
    const outcome = { frames: 0, checksum: 0 };
    let pending: Buffer = Buffer.alloc(0);
    for (const chunk of chunks) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let offset = 0;
      while (pending.length - offset >= 4) {
        const size = pending.readUInt32BE(offset);
        if (pending.length - offset < 4 + size) break;
        const payload = pending.subarray(offset + 4, offset + 4 + size);
        outcome.checksum += payload[0]! + payload[size - 1]!;
        outcome.frames++;
        offset += 4 + size;
      }
      pending = pending.subarray(offset);
    }
    return outcome;
  },
  /**
   * Not a parser but a bound: it walks the stream in place, knowing where the chunks end, and
   * copies only the payloads that straddle a chunk boundary (into one reused buffer). That copying
   * is what any parser handing out contiguous payloads must do; nothing else is done here.
   */
  'bound: copies only': ({ stream, offsets }) => {
    const outcome = { frames: 0, checksum: 0 };
    boundScratch ??= Buffer.allocUnsafeSlow(kMaxPayload);
    let chunk = 0;
    for (let at = 0; at < stream.length; ) {
      const size = stream.readUInt32BE(at);
      const start = at + 4;
      const end = start + size;
      while (offsets[chunk + 1]! <= start) chunk++;
      if (offsets[chunk + 1]! < end) {
        stream.copy(boundScratch, 0, start, end);
        outcome.checksum += boundScratch[0]! + boundScratch[size - 1]!;
      } else {
        outcome.checksum += stream[start]! + stream[end - 1]!;
      }
      outcome.frames++;
      at = end;
    }
    return outcome;
  },
};
let boundScratch: Buffer | undefined;

interface Timing {
  /** Frames per wall-clock second. */
  framesPerSecond: number;
  /** Frames per second of this process's CPU time (user + system): stable on a shared machine. */
  framesPerCpuSecond: number;
}

interface Allocation {
  gcCount: number;
  gcMs: number;
  heapBytesPerFrame: number;
}

const flushMicrotasks = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Collects garbage and lets the background sweeper finish, so a sample starts from a clean heap. */
async function settle(): Promise<void> {
  forceGc();
  await new Promise<void>((resolve) => setTimeout(resolve, 30));
  await flushMicrotasks();
}

function runPasses(name: string, workload: Workload): void {
  const run = contenders[name]!;
  for (let pass = 0; pass < kPasses; pass++) {
    const outcome = run(workload);
    if (outcome.frames !== workload.frames || outcome.checksum !== workload.checksum) {
      throw new Error(`${name} parsed ${outcome.frames} frames with a wrong checksum`);
    }
  }
}

/**
 * One timed sample of `kPasses` passes over the stream, without any instrumentation. No GC is
 * forced here: when every instance of a class has died (as between samples, but never in a server
 * that keeps buffers alive), a forced full GC collects its object shapes and deoptimises every
 * method compiled against them, so forcing one before each sample would time re-optimisation of
 * the class-based contenders (LinkBuffer, bl) rather than parsing.
 */
async function time(name: string, workload: Workload): Promise<Timing> {
  await flushMicrotasks();
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  runPasses(name, workload);
  const cpu = process.cpuUsage(cpuBefore);
  const elapsed = performance.now() - started;
  const frames = workload.frames * kPasses;
  return {
    framesPerSecond: (frames / elapsed) * 1000,
    framesPerCpuSecond: (frames / (cpu.user + cpu.system)) * 1e6,
  };
}

/**
 * One sample under V8's GCProfiler (kept apart from the timed samples because it records heap
 * statistics at every GC). Bytes allocated on the JS heap = growth of the used heap over the
 * sample plus what every GC during it freed.
 */
async function measureAllocation(name: string, workload: Workload): Promise<Allocation> {
  await settle();
  // The forced GC can deoptimise the contender (see time()); one untracked pass re-optimises it.
  contenders[name]!(workload);
  const profiler = new GCProfiler();
  const before = getHeapStatistics();
  profiler.start();
  runPasses(name, workload);
  const after = getHeapStatistics();
  const { statistics } = profiler.stop();
  let heap = after.used_heap_size - before.used_heap_size;
  let gcMs = 0;
  for (const gc of statistics) {
    heap += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
    gcMs += gc.cost / 1000;
  }
  return {
    gcCount: statistics.length,
    gcMs,
    heapBytesPerFrame: heap / (workload.frames * kPasses),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  ({ BufferList } = await import('bl'));
  const workload = makeWorkload();
  const names = Object.keys(contenders);
  const timings = new Map<string, Timing[]>(names.map((name) => [name, []]));
  for (const name of names) await time(name, workload); // warm-up
  for (let repeat = 0; repeat < kRepeats; repeat++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(repeat + k) % names.length]!;
      timings.get(name)!.push(await time(name, workload));
    }
  }
  const allocations = new Map<string, Allocation>();
  for (const name of names) allocations.set(name, await measureAllocation(name, workload));

  const mib = (workload.stream.length / 1048576).toFixed(1);
  console.log(
    `length-header frames: ${workload.frames} frames (16 B-${kMaxPayload} B log-uniform), ` +
      `${mib} MiB, ${workload.chunks.length} chunks (1 B-64 KiB, ${kLayout} layout), ` +
      `${kRepeats} repeats of ${kPasses} passes, Node ${process.version}`,
  );
  const wall = (name: string) => median(timings.get(name)!.map((t) => t.framesPerSecond));
  const cpu = (name: string) => median(timings.get(name)!.map((t) => t.framesPerCpuSecond));
  const rows = names.map((name) => {
    const allocation = allocations.get(name)!;
    return {
      contender: name,
      'frames/CPU-s': Math.round(cpu(name)).toLocaleString('en-US'),
      'vs bl (CPU)': `${(cpu(name) / cpu('bl')).toFixed(2)}x`,
      'frames/s (wall)': Math.round(wall(name)).toLocaleString('en-US'),
      'vs bl (wall)': `${(wall(name) / wall('bl')).toFixed(2)}x`,
      'heap B/frame': allocation.heapBytesPerFrame.toFixed(0),
      'GCs/sample': allocation.gcCount,
      'GC ms/sample': allocation.gcMs.toFixed(1),
    };
  });
  console.table(rows);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
