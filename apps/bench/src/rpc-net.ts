/**
 * The `net` stack: an RPC server and client on node:net written the way a Node developer would
 * write them, the baseline the RPC benchmark compares against. Kept plain on purpose (not tuned):
 *
 * - a frame is `[u32 length][u32 id][payload]`, big-endian, `length` counting the payload;
 * - the server's 'data' handler concatenates chunks, splits complete frames, calls the handler and
 *   writes each reply with its own `socket.write`;
 * - the client keeps `connections` sockets, sends calls round-robin (one `socket.write` per call),
 *   matches replies to calls by id in a Map, and gives every call a `setTimeout` deadline;
 * - the pool (`net-pool`, the node:net equivalent of a pool transport) gives each call a
 *   connection of its own: an idle one, a new one while fewer than `maxActive` are open, or the
 *   next one freed.
 */
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

/** Frame header bytes: the payload length and the call id. */
const kHeaderSize = 8;
/** Largest payload either side accepts; a longer frame closes the connection. */
export const kNetMaxPayload = 4 * 1024 * 1024;

/** A running net RPC server. */
export interface NetRpcServer {
  /** 'host:port'. */
  readonly address: string;
  close(): Promise<void>;
}

function encodeFrame(id: number, payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(kHeaderSize + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.writeUInt32BE(id, 4);
  payload.copy(frame, kHeaderSize);
  return frame;
}

/**
 * Calls `onFrame(id, payload)` for every complete frame of a byte stream fed chunk by chunk;
 * returns the feed function. Throws when a frame announces more than `kNetMaxPayload` bytes.
 */
function frameSplitter(onFrame: (id: number, payload: Buffer) => void): (chunk: Buffer) => void {
  let buffered: Buffer | null = null;
  return (chunk) => {
    let data: Buffer = buffered === null ? chunk : Buffer.concat([buffered, chunk]);
    while (data.length >= kHeaderSize) {
      const length = data.readUInt32BE(0);
      if (length > kNetMaxPayload) throw new RangeError(`frame of ${length} bytes is too long`);
      if (data.length < kHeaderSize + length) break;
      const id = data.readUInt32BE(4);
      const payload = data.subarray(kHeaderSize, kHeaderSize + length);
      data = data.subarray(kHeaderSize + length);
      onFrame(id, payload);
    }
    buffered = data.length === 0 ? null : data;
  };
}

/** Starts a net RPC server on `host:port` (port 0: the kernel picks one) calling `handler`. */
export async function startNetRpcServer(
  handler: (request: Buffer) => Buffer,
  host = '127.0.0.1',
  port = 0,
): Promise<NetRpcServer> {
  const sockets = new Set<Socket>();
  const server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const split = frameSplitter((id, payload) => {
      socket.write(encodeFrame(id, handler(payload)));
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        split(chunk);
      } catch {
        socket.destroy();
      }
    });
  });
  server.listen({ host, port });
  await once(server, 'listening');
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error('no TCP address');
  return {
    address: `${bound.address}:${bound.port}`,
    async close() {
      const closed = once(server, 'close');
      server.close();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

interface PendingCall {
  readonly socket: Socket;
  readonly resolve: (reply: Buffer) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** A net RPC client: `connections` sockets, calls matched by id. */
export class NetRpcClient {
  readonly #sockets: Socket[];
  readonly #pending = new Map<number, PendingCall>();
  #nextSocket = 0;
  #nextId = 1;

  private constructor(sockets: Socket[]) {
    this.#sockets = sockets;
    for (const socket of sockets) {
      const split = frameSplitter((id, payload) => {
        const call = this.#pending.get(id);
        if (call === undefined) return; // timed out already
        this.#pending.delete(id);
        clearTimeout(call.timer);
        call.resolve(payload);
      });
      socket.on('data', (chunk: Buffer) => {
        try {
          split(chunk);
        } catch (error) {
          socket.destroy(error as Error);
        }
      });
      socket.on('error', () => {}); // 'close' follows and fails the calls
      socket.on('close', () => this.#failCalls(socket, new Error('connection closed')));
    }
  }

  /** Connects `connections` sockets to `address` ('host:port'). */
  static async connect(address: string, connections: number): Promise<NetRpcClient> {
    const separator = address.lastIndexOf(':');
    const host = address.slice(0, separator).replace(/^\[|\]$/g, '');
    const port = Number(address.slice(separator + 1));
    const opened: Socket[] = [];
    try {
      const sockets = await Promise.all(
        Array.from(
          { length: connections },
          () =>
            new Promise<Socket>((resolve, reject) => {
              const socket = connect({ host, port, noDelay: true });
              opened.push(socket);
              // Heard from the start: a socket connected early can be reset while the others still
              // connect, before the client adds its listeners (a call on it then fails: destroyed).
              socket.on('error', () => {});
              socket.once('error', reject);
              socket.once('connect', () => {
                socket.off('error', reject);
                resolve(socket);
              });
            }),
        ),
      );
      return new NetRpcClient(sockets);
    } catch (error) {
      for (const socket of opened) socket.destroy();
      throw error;
    }
  }

  /** Sends `payload`; resolves with the reply, rejects after `timeoutMs` or when the socket ends. */
  call(payload: Buffer, timeoutMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const id = this.#nextId;
      this.#nextId = this.#nextId === 0xffffffff ? 1 : this.#nextId + 1;
      const socket = this.#sockets[this.#nextSocket]!;
      this.#nextSocket = (this.#nextSocket + 1) % this.#sockets.length;
      if (socket.destroyed) {
        reject(new Error('connection closed'));
        return;
      }
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`call ${id} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { socket, resolve, reject, timer });
      socket.write(encodeFrame(id, payload));
    });
  }

  /** True once a socket has closed: the pool drops such a client. */
  get closed(): boolean {
    return this.#sockets.some((socket) => socket.destroyed);
  }

  #failCalls(socket: Socket, error: Error): void {
    for (const [id, call] of this.#pending) {
      if (call.socket !== socket) continue;
      this.#pending.delete(id);
      clearTimeout(call.timer);
      call.reject(error);
    }
  }

  /** Closes every socket; calls still in flight are rejected. */
  async close(): Promise<void> {
    await Promise.all(
      this.#sockets.map(async (socket) => {
        if (socket.destroyed) return;
        const closed = once(socket, 'close');
        socket.destroy();
        await closed;
      }),
    );
  }
}

/** A pool of single-connection net RPC clients: one call per connection at a time. */
export class NetRpcPool {
  readonly #address: string;
  readonly #maxActive: number;
  readonly #all = new Set<NetRpcClient>();
  readonly #idle: NetRpcClient[] = [];
  readonly #waiting: Array<{
    resolve: (client: NetRpcClient) => void;
    reject: (error: Error) => void;
  }> = [];
  #opening = 0;

  /** A pool of at most `maxActive` connections to `address` ('host:port'), opened on demand. */
  constructor(address: string, maxActive: number) {
    this.#address = address;
    this.#maxActive = maxActive;
  }

  /** Sends `payload` on a connection of its own; resolves with the reply. */
  async call(payload: Buffer, timeoutMs: number): Promise<Buffer> {
    const client = await this.#acquire();
    try {
      return await client.call(payload, timeoutMs);
    } finally {
      this.#release(client);
    }
  }

  #acquire(): Promise<NetRpcClient> {
    const idle = this.#idle.pop();
    if (idle !== undefined) return Promise.resolve(idle);
    if (this.#all.size + this.#opening < this.#maxActive) return this.#open();
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  async #open(): Promise<NetRpcClient> {
    this.#opening += 1;
    try {
      const client = await NetRpcClient.connect(this.#address, 1);
      this.#all.add(client);
      return client;
    } finally {
      this.#opening -= 1;
    }
  }

  #release(client: NetRpcClient): void {
    const waiter = this.#waiting.shift();
    if (client.closed) {
      // A dead connection leaves the pool; the next waiter gets a new one.
      this.#all.delete(client);
      void client.close();
      if (waiter !== undefined) this.#open().then(waiter.resolve, waiter.reject);
      return;
    }
    if (waiter !== undefined) waiter.resolve(client);
    else this.#idle.push(client);
  }

  /** How many connections the pool has open. */
  get size(): number {
    return this.#all.size;
  }

  /** Closes every connection; calls still in flight are rejected. */
  async close(): Promise<void> {
    this.#idle.length = 0;
    await Promise.all([...this.#all].map((client) => client.close()));
    this.#all.clear();
  }
}
