import { connect } from 'node:net';
import type { EchoAddress } from '@netpoll/app-echo';

/** One client connection as the load generator drives it. */
export interface LoadConnection {
  /** Sends a pre-encoded batch of frames. */
  write(batch: Buffer): void;
  /** Closes the connection. */
  close(): void;
}

/** Callbacks a transport reports a connection's input and end to. */
export interface LoadSink {
  data(bytes: Uint8Array, start: number, end: number): void;
  closed(error?: Error): void;
}

/** Opens one load connection to `address`. */
export type LoadTransport = (address: EchoAddress, sink: LoadSink) => Promise<LoadConnection>;

/** A `node:net` client, for comparing clients; the default client is @netpoll/core's. */
export const netTransport: LoadTransport = (address, sink) =>
  new Promise((resolve, reject) => {
    const socket =
      address.network === 'tcp'
        ? connect({ host: address.host, port: address.port, noDelay: true })
        : connect({ path: address.path });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', (error) => sink.closed(error));
      socket.on('close', () => sink.closed());
      socket.on('data', (chunk: Buffer) => sink.data(chunk, 0, chunk.length));
      resolve({ write: (batch) => socket.write(batch), close: () => socket.destroy() });
    });
  });
