/**
 * The requests a server connection read beyond `maxConcurrentCalls`, oldest first: copies of
 * their frames, up to {@link kMaxQueuedBytes}, after which the connection stops reading. Reading
 * past them means a PING or CANCEL that comes behind them is still answered, so a client whose
 * calls fill the limit does not find the server hung.
 */
import { Buffer } from 'node:buffer';

/** Bytes of frames queued per connection before it stops reading. */
export const kMaxQueuedBytes = 256 * 1024;

/** A request read at the limit: its whole frame (copied), and when it arrived. */
export interface QueuedRequest {
  readonly frame: Buffer;
  readonly arrival: number;
}

export class RequestQueue {
  #items: QueuedRequest[] = [];
  #head = 0;
  #bytes = 0;

  get empty(): boolean {
    return this.#head === this.#items.length;
  }

  /** Whether a frame of `size` bytes fits. */
  fits(size: number): boolean {
    return this.#bytes + size <= kMaxQueuedBytes;
  }

  /** Queues a copy of `frame` (a view of the reader's memory, which is reused). */
  push(frame: Buffer, arrival: number): void {
    this.#items.push({ frame: Buffer.from(frame), arrival });
    this.#bytes += frame.length;
  }

  /** The oldest request, taken out; undefined when empty. */
  shift(): QueuedRequest | undefined {
    if (this.empty) return undefined;
    const item = this.#items[this.#head]!;
    this.#items[this.#head++] = undefined as unknown as QueuedRequest;
    this.#bytes -= item.frame.length;
    if (this.empty) this.clear();
    return item;
  }

  /** Takes out the request with `seq` (its frame's seq field at `seqOffset`); false if none. */
  drop(seq: number, seqOffset: number): boolean {
    const items = this.#items;
    for (let i = this.#head; i < items.length; i++) {
      if (items[i]!.frame.readUInt32BE(seqOffset) !== seq) continue;
      this.#bytes -= items[i]!.frame.length;
      items.splice(i, 1);
      return true;
    }
    return false;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}
