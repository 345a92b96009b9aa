/**
 * The server's clock for arrivals and deadline checks: it reads `performance.now()` only when no
 * reading it already has is recent enough. A read costs about 45 ns here, a tenth of what one
 * call on the server costs in JavaScript.
 *
 * Recent enough means no user code (a handler, an interceptor, a decoder, abort listeners) ran
 * since the reading. Then the time elapsed since the reading is only the server's own dispatch.
 * Two readings come free:
 * - the one core takes as each read batch reaches JavaScript (`connection.readTime`);
 * - the one taken when a call finishes, for its latency.
 *
 * One clock serves every server connection of the thread: they share the reactor's batches, so
 * a handler of one connection delays the turns of the others read in the same batch.
 *
 * Every turn of a connection that is not held at a limit runs inside the batch that read its
 * input, so its `readTime` is that batch's reading. User code that starts is therefore dated at
 * or after the current batch's reading, and code of earlier batches before it. A held turn reads
 * the clock first.
 *
 * User code of other event loops on the same reactor is not seen. Its time is not counted, so a
 * request waiting behind it may reach its handler with its deadline already passed.
 */
import { now } from '../clock';

class ArrivalClock {
  /** The latest reading (a clock read, or a batch's `readTime`). */
  #time = 0;
  /** No user code started since `#time`. */
  #fresh = false;
  /** A time at or before the start of the latest user code (never after it). */
  #userCodeAt = -1;

  /** Reads the clock. */
  read(): number {
    const time = now();
    this.#time = time;
    this.#fresh = true;
    return time;
  }

  /** The time now, for a turn whose input was read by the batch read at `readTime`. */
  at(readTime: number): number {
    if (!(readTime > 0)) return this.read(); // no batch dated it
    if (this.#fresh) return Math.max(this.#time, readTime);
    if (this.#userCodeAt < readTime) {
      // User code ran only before this batch was read.
      this.#time = readTime;
      this.#fresh = true;
      return readTime;
    }
    return this.read();
  }

  /** User code is about to run in a turn of the batch read at `readTime`. */
  userCode(readTime: number): void {
    this.#fresh = false;
    this.#userCodeAt = Math.max(this.#time, readTime);
  }
}

/** The thread's clock (module state is per thread: each worker loads its own copy). */
export const arrivalClock = new ArrivalClock();
