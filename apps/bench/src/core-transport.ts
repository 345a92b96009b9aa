import { dialConnection } from '@netpoll/core';
import type { LoadTransport } from './load-transport';

/**
 * The default load client: @netpoll/core's Dialer. Input is handed to the
 * sink chunk by chunk straight from the reactor's slabs (no copy), then
 * skipped and released; each request batch is copied into the reactor's
 * outbound memory by `flush()` and leaves with one `writev` after the batch.
 */
export const coreTransport: LoadTransport = async (address, sink) => {
  const connection =
    address.network === 'tcp'
      ? await dialConnection(
          'tcp',
          `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`,
        )
      : await dialConnection('unix', address.path);
  const visit = (buffer: Buffer, start: number, end: number): void => {
    sink.data(buffer, start, end);
  };
  connection.setOnRequest((current) => {
    const { reader } = current;
    const length = reader.len();
    reader.forEachChunk(visit);
    reader.skip(length);
    reader.release();
  });
  connection.addCloseCallback((closed) => {
    sink.closed(closed.closeError ?? undefined);
  });
  return {
    write(batch) {
      connection.writer.writeBinary(batch);
      connection.writer.flush();
    },
    close: () => connection.close(),
  };
};
