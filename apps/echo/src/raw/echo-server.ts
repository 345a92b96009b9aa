import type { EchoAddress } from './listen-address';

/** The echo server implementations the CLI can run. */
export const kEchoImplementations = ['core', 'net', 'net-batched'] as const;
export type EchoImplementation = (typeof kEchoImplementations)[number];

/** Options every echo implementation takes. */
export interface EchoServerOptions {
  /** Largest payload accepted, in bytes; a larger header closes that connection. */
  readonly maxFrameSize: number;
  /**
   * Reactors, one per worker thread (`@netpoll/core` only; 1 to 256). Default 1: the server runs in
   * the calling thread.
   */
  readonly reactors?: number;
}

/**
 * A running length-header echo server: every frame (4-byte big-endian payload
 * length, then the payload) is answered with an identical frame.
 */
export interface EchoServer {
  /** Where it listens, with the port resolved when 0 was asked for. */
  readonly address: EchoAddress;
  /** Stops accepting, lets connections finish for up to `timeout` ms, then closes the rest. */
  close(timeout: number): Promise<void>;
  /**
   * Counters the implementation keeps: `backpressurePauses` / `backpressureResumes` (reading
   * paused because replies were not being read, and resumed on `'drain'`), plus the reactor
   * counters for core. Core's are this thread's (with one reactor); with several reactors only
   * `reactors` and `connections`.
   */
  stats(): Readonly<Record<string, number>>;
}

/** Default `--max-frame-size`: 4 MiB. */
export const kDefaultMaxFrameSize = 4 * 1024 * 1024;
