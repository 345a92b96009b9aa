/**
 * Counts complete length-header frames (4-byte big-endian length, then the
 * payload) in a byte stream fed in arbitrary pieces, without copying and
 * without allocating. Throws when a header announces more than `maxFrameSize`.
 */
export class FrameCounter {
  readonly #maxFrameSize: number;
  #headerBytes = 0;
  #header = 0;
  #payloadLeft = -1;

  constructor(maxFrameSize: number) {
    this.#maxFrameSize = maxFrameSize;
  }

  /** Consumes `bytes[start, end)` and returns how many frames it completed. */
  feed(bytes: Uint8Array, start: number, end: number): number {
    let frames = 0;
    let index = start;
    while (index < end) {
      if (this.#payloadLeft < 0) {
        this.#header = ((this.#header << 8) | bytes[index]!) >>> 0;
        index += 1;
        this.#headerBytes += 1;
        if (this.#headerBytes < 4) continue;
        if (this.#header > this.#maxFrameSize) {
          throw new RangeError(`frame of ${this.#header} bytes exceeds ${this.#maxFrameSize}`);
        }
        this.#payloadLeft = this.#header;
        this.#headerBytes = 0;
        this.#header = 0;
        if (this.#payloadLeft === 0) {
          // An empty payload completes with its header, even at the end of a piece.
          frames += 1;
          this.#payloadLeft = -1;
          continue;
        }
      }
      const take = Math.min(this.#payloadLeft, end - index);
      index += take;
      this.#payloadLeft -= take;
      if (this.#payloadLeft === 0) {
        frames += 1;
        this.#payloadLeft = -1;
      }
    }
    return frames;
  }
}

/** Encodes `count` identical frames of `payloadSize` bytes back to back. */
export function encodeFrames(payloadSize: number, count: number): Buffer {
  const frame = Buffer.alloc(4 + payloadSize);
  frame.writeUInt32BE(payloadSize, 0);
  for (let index = 0; index < payloadSize; index++) frame[4 + index] = (index * 31 + 7) & 0xff;
  return Buffer.concat(Array.from({ length: count }, () => frame));
}
