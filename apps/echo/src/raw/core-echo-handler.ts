/**
 * The handler module of the @netpoll/core echo server. With `--reactors N` each reactor thread
 * loads this file on its own (`EventLoop` option `handler`); with one reactor the server uses the
 * same functions in the main thread.
 */
import type { Connection } from '@netpoll/core';

/**
 * Backpressure counters of this thread's echo handler: how often a connection's reading was
 * paused because its replies were not being read, and resumed on `'drain'`.
 */
export const backpressure = { pauses: 0, resumes: 0 };

/**
 * Answers every frame buffered on `connection`. The reactor frames natively, so the reader only
 * ever holds complete frames, and echoing them all is one `writeFrom` of everything buffered (no
 * view object: above 64 bytes the reader's slab regions are shared with the writer, so the reply
 * is sent straight from where it was read; smaller ones are copied) and one `flush()` — no JS
 * allocation per request. The replies leave with one `writev` after the batch, as the
 * hand-optimised node:net server answers a chunk with one `write`.
 *
 * Backpressure: a peer that sends but does not read its replies would make the server read on
 * and queue replies without bound. Once the unsent replies reach the connection's high-water mark
 * (`writable` false) the connection stops reading — the peer then sees TCP backpressure — until
 * `'drain'`. The cost per request is one property read.
 */
export function onRequest(connection: Connection): void {
  const { reader, writer } = connection;
  writer.writeFrom(reader, reader.len());
  writer.flush();
  if (!connection.writable) pauseUntilDrained(connection);
}

/** A misbehaving peer closes only its own connection; nothing to log for the echo server. */
export function onError(): void {}

/** Connections this handler paused (core may also hold back reading by itself: `readPaused`). */
const paused = new WeakSet<Connection>();

function pauseUntilDrained(connection: Connection): void {
  if (paused.has(connection)) return;
  paused.add(connection);
  connection.pauseRead();
  backpressure.pauses += 1;
  connection.once('drain', resumeReading);
}

/** A `'drain'` listener: `this` is the connection (no closure per pause). */
function resumeReading(this: Connection): void {
  backpressure.resumes += 1;
  paused.delete(this);
  this.resumeRead();
}
