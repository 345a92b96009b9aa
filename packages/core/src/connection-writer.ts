/**
 * `connection.writer`: a LinkBuffer whose nodes live in the reactor's outbound slabs. `flush()`
 * commits the bytes and queues them for the reactor (no JS→native call): native `writev`s them
 * after the current batch, or from its loop hook when the flush happened later (after an await).
 */
import { LinkBuffer, type LinkBufferOptions } from '@netpoll/linkbuffer';

/** What the writer needs from its connection. */
export interface WriteHost {
  /** Throws `ERR_NETPOLL_CONN_CLOSED` ("connection has been closed <when>") when inactive. */
  assertWritable(when: string): void;
  /** Queues the flushed bytes not yet handed to native. */
  submitOutput(): void;
}

/**
 * The output side of a connection: netpoll's Writer. Every writer method throws
 * `ERR_NETPOLL_CONN_CLOSED` once either side has closed (netpoll §1.2), so a handler never writes
 * into a dead connection by accident. `flush()` never blocks: backpressure shows in
 * `connection.writable` and the `'drain'` event.
 */
export class ConnectionWriter extends LinkBuffer {
  readonly #host: WriteHost;

  /** @internal Created by the connection. */
  constructor(host: WriteHost, options?: LinkBufferOptions) {
    super(options);
    this.#host = host;
  }

  override malloc(n: number): Buffer {
    this.#host.assertWritable('when malloc');
    return super.malloc(n);
  }

  override mallocAck(n: number): void {
    this.#host.assertWritable('when malloc ack');
    super.mallocAck(n);
  }

  override writeBinary(data: Uint8Array): number {
    this.#host.assertWritable('when write binary');
    return super.writeBinary(data);
  }

  override writeString(text: string): number {
    this.#host.assertWritable('when write string');
    return super.writeString(text);
  }

  override writeByte(byte: number): void {
    this.#host.assertWritable('when write byte');
    super.writeByte(byte);
  }

  /**
   * Moves `n` bytes of another LinkBuffer (typically this or another connection's reader) into
   * the reservation without a view: the echo/proxy path, with no JS allocation up to 4 KiB.
   * Above, the reader's slab regions are shared and stay pinned until native has written them.
   */
  override writeFrom(source: LinkBuffer, n: number): number {
    this.#host.assertWritable('when write from');
    return super.writeFrom(source, n);
  }

  override writeDirect(data: Uint8Array, remainCap: number): void {
    this.#host.assertWritable('when write direct');
    super.writeDirect(data, remainCap);
  }

  override append(writer: LinkBuffer | null | undefined): void {
    this.#host.assertWritable('when append');
    super.append(writer);
  }

  /**
   * Commits everything reserved and queues it for sending. Returns at once; the bytes leave with
   * one `writev` after the current batch (or at the next loop hook). Throws
   * `ERR_NETPOLL_CONN_CLOSED` when the connection is closed.
   */
  override flush(): void {
    this.#host.assertWritable('when flush');
    super.flush();
    this.#host.submitOutput();
  }
}
