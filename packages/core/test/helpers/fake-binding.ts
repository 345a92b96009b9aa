/**
 * A fake NativeBinding for unit tests: no addon, no sockets. It keeps the
 * memory the reactor registers so a test can write batch records and read submissions, and it
 * records every call.
 */
import type { NativeBinding } from '../../src/binding';
import * as L from '../../src/layout';

export interface FakeBinding extends NativeBinding {
  calls: string[];
  control(): Int32Array;
  fdState(): Int32Array;
  /** Writes records as native would and calls the dispatcher once. */
  emitBatch(
    records: Array<[kind: number, slab: number, fd: number, a: number, b: number]>,
    flags?: number,
  ): void;
  /** Pretends native processed the submission queue. */
  processSubmissions(): Array<[op: number, slab: number, fd: number, a: number, b: number]>;
  slabs: ArrayBuffer[];
}

export function createFakeBinding(maxFds = 64): FakeBinding {
  let control: Int32Array | null = null;
  let fdState: Int32Array | null = null;
  let dispatcher: (() => void) | null = null;
  const calls: string[] = [];
  const slabs: ArrayBuffer[] = [];
  const fake: FakeBinding = {
    calls,
    slabs,
    maxFds: () => maxFds,
    layout: () => ({}),
    init(controlBuffer, fdBuffer, _stats, dispatch) {
      calls.push('init');
      control = new Int32Array(controlBuffer);
      fdState = new Int32Array(fdBuffer);
      dispatcher = dispatch;
      return 0;
    },
    addSlab(buffer, inbound) {
      calls.push(`addSlab:${inbound ? 'in' : 'out'}`);
      slabs.push(buffer);
      return slabs.length - 1;
    },
    releaseSlab: (index) => {
      calls.push(`releaseSlab:${index}`);
      return 0;
    },
    listen: () => 10,
    adoptListener: () => 12,
    connect: () => 11,
    setFraming: () => 0,
    setReading: (fd, reading) => {
      calls.push(`setReading:${fd}:${reading}`);
      return 0;
    },
    setKeepAlive: () => 0,
    close: (fd) => {
      calls.push(`close:${fd}`);
      return 0;
    },
    endInput: (fd) => {
      calls.push(`endInput:${fd}`);
      return 0;
    },
    unacknowledgedBytes: () => 0,
    flush() {
      calls.push('flush');
      fake.processSubmissions();
      return 0;
    },
    address: () => '127.0.0.1:1',
    control: () => control!,
    fdState: () => fdState!,
    emitBatch(records, flags = 0) {
      const block = control!;
      block[L.kHeaderRecordCount] = records.length;
      block[L.kHeaderFlags] = flags;
      records.forEach(([kind, slab, fd, a, b], index) => {
        const base = L.kRecordBase + index * L.kRecordInts;
        block[base] = kind | (slab << 8);
        block[base + 1] = fd;
        block[base + 2] = a;
        block[base + 3] = b;
      });
      dispatcher!();
    },
    processSubmissions() {
      const block = control!;
      const count = block[L.kHeaderSubmitCount]!;
      const entries: Array<[number, number, number, number, number]> = [];
      for (let i = 0; i < count; i++) {
        const base = L.kSubmitBase + i * L.kRecordInts;
        const word = block[base]!;
        entries.push([
          word & 0xff,
          word >>> 8,
          block[base + 1]!,
          block[base + 2]!,
          block[base + 3]!,
        ]);
      }
      block[L.kHeaderSubmitCount] = 0;
      block[L.kHeaderProcessedGen]! += 1;
      return entries;
    },
  };
  return fake;
}
