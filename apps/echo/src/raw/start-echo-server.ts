import { startCoreEchoServer } from './core-echo-server';
import type { EchoImplementation, EchoServer, EchoServerOptions } from './echo-server';
import type { EchoAddress } from './listen-address';
import { startNetEchoServer } from './net-echo-server';

/** Throws when several reactors are asked of an implementation that has only one. */
export function checkReactors(implementation: EchoImplementation, reactors: number): void {
  if (reactors !== 1 && implementation !== 'core') {
    throw new RangeError(
      `--reactors applies to --impl core only (received --impl ${implementation})`,
    );
  }
}

/** Starts the echo server `implementation` on `address`. */
export async function startEchoServer(
  implementation: EchoImplementation,
  address: EchoAddress,
  options: EchoServerOptions,
): Promise<EchoServer> {
  checkReactors(implementation, options.reactors ?? 1);
  switch (implementation) {
    case 'core':
      return startCoreEchoServer(address, options);
    case 'net':
      return startNetEchoServer(address, { ...options, batched: false });
    case 'net-batched':
      return startNetEchoServer(address, { ...options, batched: true });
  }
}
