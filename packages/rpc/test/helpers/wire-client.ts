/**
 * A raw `node:net` client that speaks the wire format to a server under test: it writes messages
 * with the package's `encodeMessage` and decodes what arrives with `decodeMessage`, after the test's
 * own length-prefixed accumulator. It keeps every message it received, so a test can wait for a
 * reply by seq (replies come in any order) or check afterwards what was (not) answered. Every
 * socket is destroyed after the test, pass or fail.
 */
import { connect, type Socket } from 'node:net';
import { destroyAfterTest } from '@netpoll/jest-config/cleanup';
import {
  decodeMessage,
  encodeMessage,
  Kind,
  type LengthHeader,
  type Message,
  type Metadata,
} from '../../src';
import { FrameAccumulator } from './frames';

/** How the connection ended, as `node:net` saw it. */
export interface Ending {
  /** The server's EOF arrived (a clean close: FIN after the last byte). */
  eof: boolean;
  /** The socket error, if any (`ECONNRESET` for a reset). */
  error: (Error & { code?: string }) | null;
}

interface Waiter {
  predicate: (message: Message) => boolean;
  what: string;
  resolve: (message: Message) => void;
  reject: (error: Error) => void;
}

/** How long a wait for a message or for the end of the connection may last before it fails. */
const kWaitLimit = 10_000;

export interface RequestOptions {
  /** Default: the next seq of this client (1, 2, …). */
  seq?: number;
  timeout?: number;
  metadata?: Metadata;
  oneWay?: boolean;
}

export class WireClient {
  readonly socket: Socket;
  readonly lengthHeader: LengthHeader;
  /** Every message received, in arrival order. */
  readonly received: Message[] = [];
  /** Resolves once the socket closed. */
  readonly closed: Promise<Ending>;
  #nextSeq = 1;
  #eof = false;
  #error: (Error & { code?: string }) | null = null;
  #ended = false;
  #waiters: Waiter[] = [];
  readonly #accumulator: FrameAccumulator;

  private constructor(socket: Socket, lengthHeader: LengthHeader) {
    this.socket = socket;
    this.lengthHeader = lengthHeader;
    this.#accumulator = new FrameAccumulator(lengthHeader);
    socket.on('data', (chunk: Buffer) => {
      for (const body of this.#accumulator.push(chunk)) {
        let message: Message;
        try {
          message = decodeMessage(body);
        } catch (error) {
          this.#fail(
            new Error(`the server sent an undecodable frame ${body.toString('hex')}`, {
              cause: error,
            }),
          );
          socket.destroy();
          return;
        }
        this.received.push(message);
        for (const waiter of this.#waiters.slice()) {
          if (waiter.predicate(message)) {
            this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
            waiter.resolve(message);
          }
        }
      }
    });
    socket.on('end', () => {
      this.#eof = true;
    });
    socket.on('error', (error) => {
      this.#error = error;
    });
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.#fail(new Error('the connection closed'));
        resolve({ eof: this.#eof, error: this.#error });
      });
    });
  }

  /** Connects to `"host:port"` or a Unix socket path; the socket is destroyed after the test. */
  static connect(address: string, lengthHeader: LengthHeader = 4): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const colon = address.lastIndexOf(':');
      const socket = destroyAfterTest(
        address.startsWith('/')
          ? connect({ path: address })
          : connect({ host: address.slice(0, colon), port: Number(address.slice(colon + 1)) }),
      );
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new WireClient(socket, lengthHeader));
      });
    });
  }

  /** Writes `message` as one frame. */
  send(message: Message): void {
    this.socket.write(encodeMessage(message, this.lengthHeader));
  }

  /** Writes raw bytes (hand-made or malformed frames). */
  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The frame of a REQUEST (or ONE_WAY) for `method`, and its seq. */
  requestFrame(
    method: string,
    payload: Uint8Array | string,
    options: RequestOptions = {},
  ): { seq: number; frame: Buffer } {
    const seq = options.seq ?? this.#nextSeq++;
    const message: Message = {
      kind: options.oneWay === true ? Kind.ONE_WAY : Kind.REQUEST,
      seq,
      method,
      payload: Buffer.from(payload),
    };
    if (options.timeout !== undefined) message.timeout = options.timeout;
    if (options.metadata !== undefined) message.metadata = options.metadata;
    return { seq, frame: encodeMessage(message, this.lengthHeader) };
  }

  /** Sends a REQUEST (or ONE_WAY); returns its seq. */
  request(method: string, payload: Uint8Array | string, options: RequestOptions = {}): number {
    const { seq, frame } = this.requestFrame(method, payload, options);
    this.socket.write(frame);
    return seq;
  }

  /** Sends a request and resolves with its reply (RESPONSE or ERROR with the same seq). */
  call(
    method: string,
    payload: Uint8Array | string,
    options: RequestOptions = {},
  ): Promise<Message> {
    return this.reply(this.request(method, payload, options));
  }

  /** Resolves with the RESPONSE or ERROR for `seq` (already received, or the next to come). */
  reply(seq: number): Promise<Message> {
    return this.waitFor(
      (message) =>
        (message.kind === Kind.RESPONSE || message.kind === Kind.ERROR) && message.seq === seq,
      `the reply to seq ${seq}`,
    );
  }

  /**
   * Resolves with the first received message that matches (already received, or the next to
   * come); rejects when the connection closes first, or after `limit` ms (a bound so that a
   * missing reply fails the test with its name instead of at jest's timeout; not a timing check).
   */
  waitFor(
    predicate: (message: Message) => boolean,
    what: string,
    limit = kWaitLimit,
  ): Promise<Message> {
    const found = this.received.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    if (this.#ended) return Promise.reject(new Error(`the connection closed before ${what}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`nothing came within ${limit} ms: ${what}`));
      }, limit);
      const waiter: Waiter = {
        predicate,
        what,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.#waiters.push(waiter);
    });
  }

  /** Resolves once the socket closed (bounded like {@link waitFor}). */
  ended(limit = kWaitLimit): Promise<Ending> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the connection did not close within ${limit} ms`)),
        limit,
      );
    });
    return Promise.race([this.closed, bound]).finally(() => clearTimeout(timer));
  }

  /** The replies received so far (RESPONSE and ERROR), by seq. */
  replies(): Map<number, Message> {
    const replies = new Map<number, Message>();
    for (const message of this.received) {
      if (message.kind === Kind.RESPONSE || message.kind === Kind.ERROR) {
        if (replies.has(message.seq)) throw new Error(`two replies for seq ${message.seq}`);
        replies.set(message.seq, message);
      }
    }
    return replies;
  }

  /** Ends the writing side (FIN). */
  end(): void {
    this.socket.end();
  }

  /** Resets the connection (RST), as a crashed peer would. */
  reset(): void {
    this.socket.resetAndDestroy();
  }

  #fail(error: Error): void {
    this.#ended = true;
    for (const waiter of this.#waiters.splice(0)) {
      waiter.reject(new Error(`${error.message} before ${waiter.what}`, { cause: error.cause }));
    }
  }
}
