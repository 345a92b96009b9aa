/**
 * A listen or dial address as the CLI accepts it: `tcp://HOST:PORT` or
 * `unix:PATH`. IPv6 hosts are written in brackets (`tcp://[::1]:7000`).
 */
export type EchoAddress =
  | { readonly network: 'tcp'; readonly host: string; readonly port: number }
  | { readonly network: 'unix'; readonly path: string };

/** Parses `tcp://HOST:PORT` or `unix:PATH`; throws a TypeError naming the flag otherwise. */
export function parseAddress(text: string, flag = '--listen'): EchoAddress {
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length).replace(/^\/\/(?=\/)/, '');
    if (path.length === 0) throw new TypeError(`${flag} unix: needs a socket path`);
    return { network: 'unix', path };
  }
  const match = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})$/.exec(text);
  if (match === null) {
    throw new TypeError(`${flag} must be tcp://HOST:PORT or unix:PATH (received ${text})`);
  }
  const port = Number(match[2]);
  if (port > 65535) throw new RangeError(`${flag} port must be at most 65535 (received ${port})`);
  return { network: 'tcp', host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

/** Formats an address back into the CLI's form (the inverse of {@link parseAddress}). */
export function formatAddress(address: EchoAddress): string {
  if (address.network === 'unix') return `unix:${address.path}`;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `tcp://${host}:${address.port}`;
}
