/**
 * Address parsing for listeners and dialers: `"host:port"`, `"[v6]:port"`, `":port"` for TCP and
 * a filesystem path for Unix sockets. Host names are resolved with `dns.lookup` by the dialer.
 */
import { isIP } from 'node:net';
import { InvalidArgumentError, OutOfRangeError } from './errors';
import { kFamilyIPv4, kFamilyIPv6, kFamilyUnix } from './layout';

/** Networks accepted by `createListener` and `dialConnection`. */
export type Network = 'tcp' | 'tcp4' | 'tcp6' | 'unix';

export interface ParsedAddress {
  network: 'tcp' | 'unix';
  /** Requested IP version for `tcp4`/`tcp6`, else 0. */
  version: 0 | 4 | 6;
  host: string;
  port: number;
}

/** Throws `ERR_NETPOLL_INVALID_ARG` for anything but the supported networks (netpoll: "unknown network"). */
export function checkNetwork(network: unknown): Network {
  if (network === 'tcp' || network === 'tcp4' || network === 'tcp6' || network === 'unix') {
    return network;
  }
  throw new InvalidArgumentError('network', "'tcp', 'tcp4', 'tcp6' or 'unix'", network);
}

/**
 * Splits `address` for `network`. Throws `ERR_NETPOLL_INVALID_ARG` / `ERR_NETPOLL_OUT_OF_RANGE`
 * for anything that cannot name a socket: a NUL byte (the kernel would cut a Unix path there), a
 * port that is not decimal digits, an IPv6 host without brackets, or an IP literal of the wrong
 * family for `tcp4`/`tcp6`. A Unix path too long for `sun_path` fails in the system call
 * (`ENAMETOOLONG`).
 */
export function parseAddress(network: Network, address: unknown): ParsedAddress {
  if (typeof address !== 'string' || address.length === 0) {
    throw new InvalidArgumentError('address', 'a non-empty string', address);
  }
  if (address.includes('\0')) {
    throw new InvalidArgumentError('address', 'a string without NUL bytes', address);
  }
  if (network === 'unix') return { network: 'unix', version: 0, host: address, port: 0 };
  const colon = address.lastIndexOf(':');
  if (colon < 0) throw new InvalidArgumentError('address', '"host:port"', address);
  let host = address.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  else if (host.includes(':')) {
    throw new InvalidArgumentError('address', '"host:port" with an IPv6 host in brackets', address);
  }
  const portText = address.slice(colon + 1);
  if (!/^-?[0-9]+$/.test(portText)) {
    throw new InvalidArgumentError('address', '"host:port" with a decimal port', address);
  }
  const port = Number(portText);
  if (port < 0 || port > 65535) throw new OutOfRangeError('address port', 'from 0 to 65535', port);
  const version = network === 'tcp4' ? 4 : network === 'tcp6' ? 6 : 0;
  const literal = isIP(host);
  if (version !== 0 && literal !== 0 && literal !== version) {
    throw new InvalidArgumentError(
      'address',
      `an IPv${version} address or a host name for network '${network}'`,
      address,
    );
  }
  return { network: 'tcp', version, host, port };
}

/** The native family constant for an IP literal or a Unix path. */
export function familyOf(parsed: ParsedAddress, ip: string): number {
  if (parsed.network === 'unix') return kFamilyUnix;
  return isIP(ip) === 6 ? kFamilyIPv6 : kFamilyIPv4;
}

/** The wildcard or loopback literal a listener binds for a host that is not an IP literal. */
export function listenHost(parsed: ParsedAddress): string {
  const host = parsed.host;
  if (isIP(host) !== 0) return host;
  if (host === '') return parsed.version === 6 ? '::' : '0.0.0.0';
  if (host === 'localhost') return parsed.version === 6 ? '::1' : '127.0.0.1';
  throw new InvalidArgumentError('address host', 'an IP literal, "localhost" or empty', host);
}
