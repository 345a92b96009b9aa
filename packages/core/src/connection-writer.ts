/**
 * `connection.writer`: netpoll's Writer. Its bytes live in a LinkBuffer whose nodes are in the
 * reactor's outbound slabs; `flush()` commits them and queues them for the reactor (no JS→native
 * call): native `writev`s them after the current batch, or from its loop hook when the flush
 * happened later (after an await).
 *
 * It is write-only on purpose, like netpoll's `Writer` interface: flushed bytes stay in the
 * LinkBuffer until native has sent them, so reading, skipping or closing it would drop or corrupt
 * queued output. Only the connection's output queue consumes it.
 */
import type { Buffer } from 'node:buffer';
import { LinkBuffer } from '@netpoll/linkbuffer';

/** What the writer needs from its connection. */
export interface WriteHost {
  /** Throws `ERR_NETPOLL_CONN_CLOSED` ("connection has been closed <when>") when inactive. */
  assertWritable(when: string): void;
  /** Queues the flushed bytes not yet handed to native. */
  submitOutput(): void;
  /**
   * True while the socket pushes back (native met EAGAIN): output written now will wait, so it
   * must not keep slab memory of the reader pinned meanwhile.
   */
  outputBlocked(): boolean;
}

/**
 * The output side of a connection. Every method throws `ERR_NETPOLL_CONN_CLOSED` once either side
 * has closed (netpoll §1.2), so a handler never writes into a dead connection by accident; the
 * other errors are the LinkBuffer method's of the same name. `flush()` never blocks: backpressure
 * shows in `connection.writable` and the `'drain'` event.
 */
export class ConnectionWriter {
  readonly #host: WriteHost;
  readonly #buffer: LinkBuffer;

  /** @internal Created by the connection over the LinkBuffer its output queue sends from. */
  constructor(host: WriteHost, buffer: LinkBuffer) {
    this.#host = host;
    this.#buffer = buffer;
  }

  /** Bytes reserved (written) and not yet flushed. */
  mallocLen(): number {
    return this.#buffer.mallocLen();
  }

  /** Reserves `n` bytes and returns them as a view to fill (LinkBuffer `malloc`). */
  malloc(n: number): Buffer {
    this.#host.assertWritable('when malloc');
    return this.#buffer.malloc(n);
  }

  /**
   * Reserves `n` contiguous bytes as `malloc` does and returns their offset in `reserved`,
   * without making a view (LinkBuffer `reserve`). Write only those `n` bytes.
   */
  reserve(n: number): number {
    this.#host.assertWritable('when reserve');
    return this.#buffer.reserve(n);
  }

  /**
   * The Buffer the offset `reserve()` returned points into (LinkBuffer `reserved`): read it after
   * `reserve()` and before any other write.
   */
  get reserved(): Buffer {
    return this.#buffer.reserved;
  }

  /** Keeps only the first `n` reserved bytes (LinkBuffer `mallocAck`). */
  mallocAck(n: number): void {
    this.#host.assertWritable('when malloc ack');
    this.#buffer.mallocAck(n);
  }

  /**
   * Appends `data` and returns its length. Up to 4 KiB it is copied. Above, a view of a reader's
   * memory on the same reactor is sent zero-copy, its slab pinned until written; any other memory
   * is copied into outbound memory at `flush()`.
   */
  writeBinary(data: Uint8Array): number {
    this.#host.assertWritable('when write binary');
    return this.#buffer.writeBinary(data);
  }

  /** Encodes `text` as UTF-8 into outbound memory and returns the byte count. */
  writeString(text: string): number {
    this.#host.assertWritable('when write string');
    return this.#buffer.writeString(text);
  }

  /** Appends one byte (`byte & 0xff`). */
  writeByte(byte: number): void {
    this.#host.assertWritable('when write byte');
    this.#buffer.writeByte(byte);
  }

  /** Appends `value` (0–65535) as 2 big-endian bytes (LinkBuffer `writeUint16BE`). */
  writeUint16BE(value: number): void {
    this.#host.assertWritable('when write uint16');
    this.#buffer.writeUint16BE(value);
  }

  /** Appends `value` (0–4294967295) as 4 big-endian bytes (LinkBuffer `writeUint32BE`). */
  writeUint32BE(value: number): void {
    this.#host.assertWritable('when write uint32');
    this.#buffer.writeUint32BE(value);
  }

  /** Appends `value` (a BigInt, 0n–2^64-1) as 8 big-endian bytes (LinkBuffer `writeBigUint64BE`). */
  writeBigUint64BE(value: bigint): void {
    this.#host.assertWritable('when write uint64');
    this.#buffer.writeBigUint64BE(value);
  }

  /**
   * Moves `n` bytes of another LinkBuffer (typically this or another connection's reader) into
   * the reservation without a view: the echo/proxy path, with no JS allocation. Above 64 bytes
   * the reader's slab regions are shared and stay pinned until native has written them — unless
   * the socket pushes back: then the bytes are copied, so a peer that does not read cannot keep
   * the reactor's inbound slabs pinned.
   */
  writeFrom(source: LinkBuffer, n: number): number {
    this.#host.assertWritable('when write from');
    const copy =
      this.#host.outputBlocked() &&
      source instanceof LinkBuffer &&
      Number.isSafeInteger(n) &&
      n > 0 &&
      n <= source.len();
    // Anything else (not blocked, or arguments writeFrom refuses) takes the shared path.
    if (!copy) return this.#buffer.writeFrom(source, n);
    return source.read(this.#buffer.malloc(n));
  }

  /** Inserts `data` into the reservation so that `remainCap` reserved bytes follow it. */
  writeDirect(data: Uint8Array, remainCap: number): void {
    this.#host.assertWritable('when write direct');
    this.#buffer.writeDirect(data, remainCap);
  }

  /** Splices a LinkBuffer's bytes onto the output without copying, then closes it. */
  append(buffer: LinkBuffer | null | undefined): void {
    this.#host.assertWritable('when append');
    this.#buffer.append(buffer);
  }

  /**
   * Commits everything reserved and queues it for sending. Returns at once; the bytes leave with
   * one `writev` after the current batch (or at the next loop hook). Throws
   * `ERR_NETPOLL_CONN_CLOSED` when the connection is closed.
   */
  flush(): void {
    this.#host.assertWritable('when flush');
    this.#buffer.flush();
    this.#host.submitOutput();
  }
}
