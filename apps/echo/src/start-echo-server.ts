import { startCoreEchoServer } from './core-echo-server';
import type { EchoImplementation, EchoServer, EchoServerOptions } from './echo-server';
import type { EchoAddress } from './listen-address';
import { startNetEchoServer } from './net-echo-server';

/** Starts the echo server `implementation` on `address`. */
export async function startEchoServer(
  implementation: EchoImplementation,
  address: EchoAddress,
  options: EchoServerOptions,
): Promise<EchoServer> {
  if ((options.reactors ?? 1) !== 1 && implementation !== 'core') {
    throw new RangeError(
      `--reactors applies to --impl core only (received --impl ${implementation})`,
    );
  }
  switch (implementation) {
    case 'core':
      return startCoreEchoServer(address, options);
    case 'net':
      return startNetEchoServer(address, { ...options, batched: false });
    case 'net-batched':
      return startNetEchoServer(address, { ...options, batched: true });
  }
}
