/**
 * A `node:net` client for the multi-reactor tests: sends 4-byte length-prefixed frames and reads
 * the fixture handler's answers `[threadId u32][length u32][payload]` (test/fixtures).
 */
import { connect, type Socket } from 'node:net';
import { destroyAfterTest } from '@netpoll/jest-config/cleanup';

export interface Answer {
  threadId: number;
  payload: Buffer;
}

export class FrameClient {
  readonly socket: Socket;
  readonly closed: Promise<void>;
  #buffered = Buffer.alloc(0);
  #waiters: Array<(answer: Answer) => void> = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      this.#buffered = Buffer.concat([this.#buffered, chunk]);
      while (this.#buffered.length >= 8) {
        const length = this.#buffered.readUInt32BE(4);
        if (this.#buffered.length < 8 + length) break;
        const answer = {
          threadId: this.#buffered.readUInt32BE(0),
          payload: Buffer.from(this.#buffered.subarray(8, 8 + length)),
        };
        this.#buffered = this.#buffered.subarray(8 + length);
        this.#waiters.shift()?.(answer);
      }
    });
    socket.on('error', () => {});
  }

  /** Connects to a TCP port on 127.0.0.1 or a Unix socket path; destroyed after the test. */
  static open(target: number | string): Promise<FrameClient> {
    return new Promise((resolve, reject) => {
      const socket = destroyAfterTest(
        typeof target === 'number' ? connect(target, '127.0.0.1') : connect({ path: target }),
      );
      socket.once('connect', () => resolve(new FrameClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends one frame; resolves with its answer (answers come in order). */
  request(payload: Buffer | string): Promise<Answer> {
    const body = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.length, 0);
    const answered = new Promise<Answer>((resolve) => this.#waiters.push(resolve));
    this.socket.write(Buffer.concat([header, body]));
    return answered;
  }

  /** Resolves with the next answer without sending anything (one the server sends unasked). */
  next(): Promise<Answer> {
    return new Promise<Answer>((resolve) => this.#waiters.push(resolve));
  }

  close(): Promise<void> {
    this.socket.end();
    return this.closed;
  }
}

/** A payload of `size` bytes that differs per `seed`, so a mixed-up answer shows. */
export function patternPayload(seed: number, size: number): Buffer {
  const payload = Buffer.alloc(size);
  for (let i = 0; i < size; i++) payload[i] = (seed * 31 + i * 7) % 251;
  return payload;
}
