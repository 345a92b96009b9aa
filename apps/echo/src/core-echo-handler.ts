/**
 * The handler module of the @netpoll/core echo server. With `--reactors N` each reactor thread
 * loads this file on its own (`EventLoop` option `handler`); with one reactor the server uses the
 * same functions in the main thread.
 */
import type { Connection } from '@netpoll/core';

/**
 * Answers every frame buffered on `connection`. The reactor frames natively, so the reader only
 * ever holds complete frames, and echoing them all is one `writeFrom` of everything buffered (no
 * view object: above 64 bytes the reader's slab regions are shared with the writer, so the reply
 * is sent straight from where it was read; smaller ones are copied) and one `flush()` — no JS allocation per request. The replies leave with
 * one `writev` after the batch, as the hand-optimised node:net server answers a chunk with one
 * `write`.
 */
export function onRequest(connection: Connection): void {
  const { reader, writer } = connection;
  writer.writeFrom(reader, reader.len());
  writer.flush();
}

/** A misbehaving peer closes only its own connection; nothing to log for the echo server. */
export function onError(): void {}
