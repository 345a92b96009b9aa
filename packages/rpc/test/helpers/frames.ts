/**
 * Test-side framing, written from the wire format spec and independent of the package's reader: a
 * length-prefixed accumulator that turns an arbitrarily chunked byte stream back into frame bodies,
 * and hex helpers for golden frames.
 */
import type { LengthHeader } from '../../src';

/** Reads the big-endian length header of `lengthHeader` bytes at the start of `bytes`. */
export function readLength(bytes: Buffer, lengthHeader: LengthHeader): number {
  if (lengthHeader === 4) return bytes.readUInt32BE(0);
  if (lengthHeader === 2) return bytes.readUInt16BE(0);
  return bytes[0]!;
}

/** Collects chunks of a stream of frames and hands out each complete body (a copy), in order. */
export class FrameAccumulator {
  readonly lengthHeader: LengthHeader;
  #buffered: Buffer = Buffer.alloc(0);

  constructor(lengthHeader: LengthHeader) {
    this.lengthHeader = lengthHeader;
  }

  /** Adds `chunk`; returns the bodies it completed. */
  push(chunk: Uint8Array): Buffer[] {
    this.#buffered = Buffer.concat([this.#buffered, chunk]);
    const bodies: Buffer[] = [];
    const header = this.lengthHeader;
    while (this.#buffered.length >= header) {
      const length = readLength(this.#buffered, header);
      if (this.#buffered.length < header + length) break;
      bodies.push(Buffer.from(this.#buffered.subarray(header, header + length)));
      this.#buffered = this.#buffered.subarray(header + length);
    }
    return bodies;
  }

  /** Bytes of an incomplete frame still buffered. */
  get pending(): number {
    return this.#buffered.length;
  }
}

/** A Buffer from hex written with spaces for readability (`'11 00 00000001'`). */
export function hex(text: string): Buffer {
  const digits = text.replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/.test(digits)) throw new Error(`not hex: ${text}`);
  return Buffer.from(digits, 'hex');
}
