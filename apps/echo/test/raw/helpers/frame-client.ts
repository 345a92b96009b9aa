import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { EchoAddress } from '../../../src/raw/listen-address';

/** Encodes one length-header frame. */
export function frame(payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length, 0);
  return Buffer.concat([header, payload]);
}

/** A plain node:net client that collects everything the server sends. */
export class FrameClient {
  readonly socket: Socket;
  #chunks: Buffer[] = [];
  #length = 0;
  #waiters: Array<() => void> = [];
  closed: Promise<unknown>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#length += chunk.length;
      for (const waiter of this.#waiters.splice(0)) waiter();
    });
    this.closed = once(socket, 'close');
    socket.on('error', () => undefined);
  }

  static async connect(address: EchoAddress): Promise<FrameClient> {
    const socket =
      address.network === 'tcp'
        ? connect({ host: address.host, port: address.port })
        : connect({ path: address.path });
    await once(socket, 'connect');
    return new FrameClient(socket);
  }

  /** Resolves once at least `length` bytes have arrived, and returns them all. */
  async receive(length: number): Promise<Buffer> {
    while (this.#length < length) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0] ?? Buffer.alloc(0);
  }
}
