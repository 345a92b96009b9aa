/**
 * Property-based tests: random interleavings of writer and reader calls, checked against a
 * reference model that is two plain byte arrays (readable bytes and reserved bytes), plus how many
 * leading readable bytes `forEachNewChunk` has already visited (its cursor).
 *
 * Every run uses debug mode, so a node freed too early poisons the views the run still holds;
 * views from next()/bytes() are re-checked right before each release. At the end every buffer is
 * closed and the counting allocator must have seen every allocation freed exactly once, and every
 * borrowed region released exactly once.
 */
import fc from 'fast-check';
import { isNetpollError } from '../src/errors';
import { LinkBuffer } from '../src/link-buffer';
import type { NodeAllocator } from '../src/node-allocator';

type Operation =
  | { kind: 'binary'; size: number }
  | { kind: 'string'; size: number }
  | { kind: 'byte' }
  | { kind: 'malloc'; size: number }
  | { kind: 'reserve'; size: number }
  | { kind: 'ack'; fraction: number }
  | { kind: 'direct'; size: number; fraction: number }
  | { kind: 'flush' }
  | { kind: 'region'; size: number; pieces: number; shared: boolean }
  | { kind: 'append'; readable: number; reserved: number }
  | { kind: 'writeFrom'; readable: number; size: number; regions: boolean }
  | { kind: 'drainTo'; size: number }
  | {
      kind: 'next' | 'peek' | 'skip' | 'readString' | 'readBinary' | 'read' | 'slice';
      size: number;
    }
  | {
      kind:
        | 'readByte'
        | 'peekUint32BE'
        | 'readUint32BE'
        | 'release'
        | 'trim'
        | 'bytes'
        | 'chunks'
        | 'closeSlice';
    }
  | { kind: 'until'; delimiter: number }
  | { kind: 'newChunks'; stopAfter: number }
  | { kind: 'writeInt' | 'peekInt' | 'readInt'; width: 2 | 4 | 8; offset: number };

const size = (max: number) => fc.integer({ min: 0, max });
const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({
    kind: fc.constant('binary' as const),
    size: fc.oneof(size(80), fc.integer({ min: 4097, max: 5000 })),
  }),
  fc.record({ kind: fc.constant('string' as const), size: size(40) }),
  fc.record({ kind: fc.constant('byte' as const) }),
  fc.record({ kind: fc.constant('malloc' as const), size: size(120) }),
  fc.record({ kind: fc.constant('reserve' as const), size: size(120) }),
  fc.record({
    kind: fc.constant('ack' as const),
    fraction: fc.double({ min: 0, max: 1, noNaN: true }),
  }),
  fc.record({
    kind: fc.constant('direct' as const),
    size: fc.oneof(size(30), fc.constant(4200)),
    fraction: fc.double({ min: 0, max: 1, noNaN: true }),
  }),
  fc.record({ kind: fc.constant('flush' as const) }),
  fc.record({
    kind: fc.constant('region' as const),
    size: size(90),
    pieces: fc.integer({ min: 1, max: 3 }),
    shared: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('append' as const), readable: size(50), reserved: size(20) }),
  fc.record({
    kind: fc.constant('writeFrom' as const),
    readable: fc.oneof(size(100), fc.integer({ min: 4097, max: 6000 })),
    size: fc.oneof(size(100), fc.integer({ min: 4097, max: 6000 })),
    regions: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('drainTo' as const),
    size: fc.oneof({ weight: 3, arbitrary: size(100) }, fc.integer({ min: 4097, max: 4200 })),
  }),
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constantFrom(
        'next' as const,
        'peek' as const,
        'skip' as const,
        'readString' as const,
        'readBinary' as const,
        'read' as const,
        'slice' as const,
      ),
      size: fc.oneof({ weight: 4, arbitrary: size(24) }, size(200), fc.constant(1500)),
    }),
  },
  fc.record({
    kind: fc.constantFrom(
      'readByte' as const,
      'peekUint32BE' as const,
      'readUint32BE' as const,
      'release' as const,
      'trim' as const,
      'bytes' as const,
      'chunks' as const,
      'closeSlice' as const,
    ),
  }),
  fc.record({ kind: fc.constant('until' as const), delimiter: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constantFrom('writeInt' as const, 'peekInt' as const, 'readInt' as const),
    width: fc.constantFrom(2 as const, 4 as const, 8 as const),
    offset: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, size(12)),
  }),
  {
    // stopAfter 0 visits everything new; k > 0 makes the visitor return false at the k-th chunk.
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('newChunks' as const),
      stopAfter: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, fc.integer({ min: 1, max: 3 })),
    }),
  },
);

/** Exact-size (plus `extra` spare bytes) allocator that fails loudly on a foreign or double free. */
class StrictAllocator implements NodeAllocator {
  readonly live = new Set<Buffer>();
  allocations = 0;
  frees = 0;
  constructor(private readonly extra: number) {}
  allocate(bytes: number): Buffer {
    const buffer = Buffer.alloc(bytes + this.extra, 0xee);
    this.live.add(buffer);
    this.allocations++;
    return buffer;
  }
  free(buffer: Buffer): void {
    if (!this.live.delete(buffer)) throw new Error('free of a buffer that is not live');
    this.frees++;
  }
}

function run(operations: readonly Operation[], nodeSize: number, extra: number): void {
  const allocator = new StrictAllocator(extra);
  const options = { allocator, nodeSize, debug: true };
  const buffer = new LinkBuffer(options);
  let readable: number[] = [];
  let reserved: number[] = [];
  // Leading readable bytes forEachNewChunk has visited; consuming reads eat into them first.
  let visited = 0;
  let counter = 0;
  const nextBytes = (count: number) => {
    const bytes = Buffer.allocUnsafe(count);
    for (let i = 0; i < count; i++) bytes[i] = (counter++ * 7 + 3) & 0xff;
    return bytes;
  };
  const released = new Map<number, number>();
  let tokens = 0;
  const owner = {
    releaseRegion: (token: number) => released.set(token, (released.get(token) ?? 0) + 1),
  };
  const held: Array<[Uint8Array, number[]]> = [];
  // 150 operations of at most 90 bytes each fit; debug mode poisons each region as it goes back.
  const sharedSlab = Buffer.alloc(150 * 90);
  let sharedSlabAt = 0;
  const slices: Array<[LinkBuffer, number[]]> = [];

  const check = () => {
    expect(buffer.len()).toBe(readable.length);
    expect(buffer.mallocLen()).toBe(reserved.length);
  };
  /** Views stay valid until release(); `clear` drops them once a release is about to happen. */
  const checkHeld = (clear: boolean) => {
    for (const [view, expected] of held) expect([...view]).toEqual(expected);
    if (clear) held.length = 0;
  };
  const take = (count: number) => {
    const taken = readable.slice(0, count);
    readable = readable.slice(count);
    visited = Math.max(0, visited - count);
    return taken;
  };
  const expectNotEnough = (call: () => unknown) => {
    let error: unknown;
    try {
      call();
    } catch (caught) {
      error = caught;
    }
    expect(isNetpollError(error) && error.code).toBe('ERR_NETPOLL_LINKBUFFER_NOT_ENOUGH');
  };

  for (const op of operations) {
    switch (op.kind) {
      case 'binary': {
        const data = nextBytes(op.size);
        expect(buffer.writeBinary(data)).toBe(op.size);
        reserved.push(...data);
        break;
      }
      case 'string': {
        let value = '';
        for (let i = 0; i < op.size; i++) value += String.fromCharCode(0x20 + (counter++ % 0x5f));
        expect(buffer.writeString(value)).toBe(op.size);
        reserved.push(...Buffer.from(value, 'latin1'));
        break;
      }
      case 'byte': {
        const [byte] = nextBytes(1);
        buffer.writeByte(byte!);
        reserved.push(byte!);
        break;
      }
      case 'malloc': {
        const data = nextBytes(op.size);
        const space = buffer.malloc(op.size);
        expect(space.length).toBe(op.size);
        data.copy(space);
        reserved.push(...data);
        break;
      }
      case 'reserve': {
        const data = nextBytes(op.size);
        const at = buffer.reserve(op.size);
        data.copy(buffer.reserved, at);
        reserved.push(...data);
        break;
      }
      case 'ack': {
        const keep = Math.floor(op.fraction * reserved.length);
        buffer.mallocAck(keep);
        reserved = reserved.slice(0, keep);
        break;
      }
      case 'direct': {
        const data = nextBytes(op.size);
        const remainCap = Math.floor(op.fraction * reserved.length);
        buffer.writeDirect(data, remainCap);
        if (op.size > 0) reserved.splice(reserved.length - remainCap, 0, ...data);
        break;
      }
      case 'flush':
        buffer.flush();
        readable.push(...reserved);
        reserved = [];
        break;
      case 'region': {
        // Shared regions continue one slab, back to back (so cross-node reads may be views
        // spanning them); the others sit alone in fresh memory. Each op appends `pieces` regions.
        const slab = op.shared ? sharedSlab : Buffer.alloc(op.size + 8);
        let start = op.shared ? sharedSlabAt : 4;
        nextBytes(op.size).copy(slab, start);
        if (op.shared) sharedSlabAt += op.size;
        const end = start + op.size;
        for (let piece = 1; piece <= op.pieces; piece++) {
          const stop = piece === op.pieces ? end : start + Math.floor(op.size / op.pieces);
          buffer.appendRegion(slab, start, stop, owner, ++tokens);
          start = stop;
        }
        const bytes = slab.subarray(end - op.size, end);
        if (reserved.length === 0) readable.push(...bytes);
        else reserved.push(...bytes);
        break;
      }
      case 'append': {
        const other = new LinkBuffer(buffer.options);
        const flushed = nextBytes(op.readable);
        other.writeBinary(flushed);
        other.flush();
        const pending = nextBytes(op.reserved);
        other.malloc(op.reserved).set(pending);
        buffer.append(other);
        if (reserved.length === 0) readable.push(...flushed);
        else reserved.push(...flushed);
        reserved.push(...pending);
        break;
      }
      case 'writeFrom': {
        // A source of `op.readable` bytes (allocated nodes, or borrowed regions of fresh memory
        // in three pieces); `op.size` of them move over, and the source is closed at once: moved
        // bytes must not depend on it (sharing above 64 bytes keeps a reference).
        const source = new LinkBuffer(buffer.options);
        const bytes = nextBytes(op.readable);
        if (op.regions && op.readable > 0) {
          const memory = Buffer.from(bytes);
          const third = Math.floor(op.readable / 3);
          source.appendRegion(memory, 0, third, owner, ++tokens);
          source.appendRegion(memory, third, 2 * third, owner, ++tokens);
          source.appendRegion(memory, 2 * third, op.readable, owner, ++tokens);
        } else {
          source.writeBinary(bytes);
          source.flush();
        }
        if (op.size > op.readable) {
          expectNotEnough(() => buffer.writeFrom(source, op.size));
          expect(source.len()).toBe(op.readable);
        } else {
          expect(buffer.writeFrom(source, op.size)).toBe(op.size);
          expect(source.len()).toBe(op.readable - op.size);
          reserved.push(...bytes.subarray(0, op.size));
        }
        source.close();
        break;
      }
      case 'drainTo': {
        // This buffer as the source: the moved bytes leave it, views it handed out stay valid.
        const sink = new LinkBuffer(buffer.options);
        if (op.size > readable.length) {
          expectNotEnough(() => sink.writeFrom(buffer, op.size));
        } else {
          sink.writeFrom(buffer, op.size);
          sink.flush();
          expect([...sink.bytes()]).toEqual(take(op.size));
          checkHeld(false);
        }
        sink.close();
        break;
      }
      case 'next':
      case 'peek':
      case 'readString':
      case 'readBinary':
      case 'skip':
      case 'slice': {
        if (op.size > readable.length) {
          const method = op.kind as
            | 'next'
            | 'peek'
            | 'skip'
            | 'readString'
            | 'readBinary'
            | 'slice';
          expectNotEnough(() => buffer[method](op.size));
          break;
        }
        if (op.kind === 'peek') {
          expect([...buffer.peek(op.size)]).toEqual(readable.slice(0, op.size));
        } else if (op.kind === 'skip') {
          buffer.skip(op.size);
          take(op.size);
        } else if (op.kind === 'readString') {
          const expected = Buffer.from(take(op.size)).toString('utf8');
          expect(buffer.readString(op.size)).toBe(expected);
        } else if (op.kind === 'readBinary') {
          expect([...buffer.readBinary(op.size)]).toEqual(take(op.size));
        } else if (op.kind === 'next') {
          const view = buffer.next(op.size);
          const expected = take(op.size);
          expect([...view]).toEqual(expected);
          held.push([view, expected]);
        } else {
          checkHeld(true);
          const slice = buffer.slice(op.size);
          slices.push([slice, take(op.size)]);
        }
        break;
      }
      case 'read': {
        const target = new Uint8Array(op.size);
        const count = buffer.read(target);
        expect(count).toBe(Math.min(op.size, readable.length));
        expect([...target.subarray(0, count)]).toEqual(take(count));
        // read() must not free nodes that views still show (netpoll #415).
        checkHeld(false);
        break;
      }
      case 'readByte':
        if (readable.length === 0) expectNotEnough(() => buffer.readByte());
        else expect(buffer.readByte()).toBe(take(1)[0]);
        break;
      case 'peekUint32BE':
      case 'readUint32BE': {
        const method = op.kind as 'peekUint32BE' | 'readUint32BE';
        if (readable.length < 4) {
          expectNotEnough(() => buffer[method]());
          break;
        }
        const [a, b, c, d] = method === 'readUint32BE' ? take(4) : readable.slice(0, 4);
        expect(buffer[method]()).toBe(((a! << 24) | (b! << 16) | (c! << 8) | d!) >>> 0);
        // Neither read may disturb a view the run still holds.
        checkHeld(false);
        break;
      }
      case 'until': {
        const index = readable.indexOf(op.delimiter);
        expect(buffer.indexByte(op.delimiter)).toBe(index);
        if (index < 0) {
          expect(() => buffer.until(op.delimiter)).toThrow(
            expect.objectContaining({ code: 'ERR_NETPOLL_LINKBUFFER_DELIMITER_NOT_FOUND' }),
          );
        } else {
          const line = buffer.until(op.delimiter);
          const expected = take(index + 1);
          expect([...line]).toEqual(expected);
          held.push([line, expected]);
        }
        break;
      }
      case 'release':
        checkHeld(true);
        buffer.release();
        break;
      case 'trim':
        checkHeld(true);
        buffer.trim();
        break;
      case 'bytes': {
        const all = buffer.bytes();
        expect([...all]).toEqual(readable);
        held.push([all, [...readable]]);
        break;
      }
      case 'chunks': {
        const joined: number[] = [];
        buffer.forEachChunk((memory, start, end) => {
          joined.push(...memory.subarray(start, end));
        });
        expect(joined).toEqual(readable);
        break;
      }
      case 'writeInt': {
        const bytes = nextBytes(op.width);
        if (op.width === 2) buffer.writeUint16BE(bytes.readUInt16BE(0));
        else if (op.width === 4) buffer.writeUint32BE(bytes.readUInt32BE(0));
        else buffer.writeBigUint64BE(bytes.readBigUInt64BE(0));
        reserved.push(...bytes);
        break;
      }
      case 'peekInt':
      case 'readInt': {
        // peekInt reads at op.offset; readInt consumes from the read position.
        const offset = op.kind === 'peekInt' ? op.offset : 0;
        const read = () => {
          if (op.kind === 'peekInt') {
            if (op.width === 2) return buffer.peekUint16BE(offset);
            return op.width === 4 ? buffer.peekUint32BE(offset) : buffer.peekBigUint64BE(offset);
          }
          if (op.width === 2) return buffer.readUint16BE();
          return op.width === 4 ? buffer.readUint32BE() : buffer.readBigUint64BE();
        };
        if (readable.length < offset + op.width) {
          expectNotEnough(read);
          break;
        }
        const bytes = Buffer.from(readable.slice(offset, offset + op.width));
        const expected =
          op.width === 2
            ? bytes.readUInt16BE(0)
            : op.width === 4
              ? bytes.readUInt32BE(0)
              : bytes.readBigUInt64BE(0);
        expect(read()).toBe(expected);
        if (op.kind === 'readInt') take(op.width);
        checkHeld(false);
        break;
      }
      case 'newChunks': {
        const seen: number[] = [];
        let chunks = 0;
        const count = buffer.forEachNewChunk((memory, start, end) => {
          expect(end).toBeGreaterThan(start);
          seen.push(...memory.subarray(start, end));
          return ++chunks !== op.stopAfter;
        });
        expect(count).toBe(chunks);
        const fresh = readable.slice(visited);
        if (op.stopAfter === 0 || chunks < op.stopAfter) expect(seen).toEqual(fresh);
        else expect(seen).toEqual(fresh.slice(0, seen.length));
        visited += seen.length;
        break;
      }
      case 'closeSlice': {
        const entry = slices.shift();
        if (entry === undefined) break;
        const [slice, expected] = entry;
        expect([...slice.readBinary(slice.len())]).toEqual(expected);
        slice.close();
        break;
      }
    }
    check();
  }

  checkHeld(true);
  for (const [slice, expected] of slices) {
    expect([...slice.bytes()]).toEqual(expected);
    slice.close();
  }
  expect([...buffer.readBinary(buffer.len())]).toEqual(readable);
  buffer.close();
  expect(allocator.live.size).toBe(0);
  expect(allocator.frees).toBe(allocator.allocations);
  for (let token = 1; token <= tokens; token++) expect(released.get(token)).toBe(1);
}

describe('LinkBuffer property tests', () => {
  it('random interleavings of writer and reader calls match a byte-array model and free everything once', () => {
    fc.assert(
      fc.property(
        fc.array(operation, { minLength: 1, maxLength: 150 }),
        fc.integer({ min: 1, max: 96 }),
        fc.integer({ min: 0, max: 24 }),
        (operations, nodeSize, extra) => run(operations, nodeSize, extra),
      ),
      { numRuns: 500 },
    );
  });
});
