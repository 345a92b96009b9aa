/**
 * Where a client's endpoints come from. A resolver reports the full list of addresses whenever
 * it changes; the client dials new ones and drains removed ones (their calls in flight finish).
 * Two ship: a static list, and DNS refreshed on an interval. A platform team plugs in its own
 * registry by implementing {@link Resolver}.
 */
import { lookup } from 'node:dns/promises';
import { InvalidArgumentError } from '../errors';
import { resolveDnsOptions } from '../options';

/** A source of endpoint addresses (`"host:port"`, `"[ip6]:port"` or a Unix path). */
export interface Resolver {
  /**
   * Starts resolving. `onUpdate` receives the whole current list each time it changes (never
   * synchronously from `start`); `onError` reports a failed refresh (the last list stays).
   */
  start(onUpdate: (addresses: readonly string[]) => void, onError: (error: Error) => void): void;
  /** Stops; no callback runs afterwards. */
  close(): void;
}

function checkAddress(address: unknown, path: string): string {
  if (typeof address !== 'string' || address === '' || address.includes('\0')) {
    throw new InvalidArgumentError(path, 'a "host:port" address or a Unix socket path', address);
  }
  if (!address.startsWith('/') && !/^(\[[^\]]+\]|[^:]*):\d{1,5}$/.test(address)) {
    throw new InvalidArgumentError(
      path,
      'a "host:port" address or an absolute Unix socket path',
      address,
    );
  }
  return address;
}

/** A fixed list of addresses. */
export function staticResolver(addresses: readonly string[]): Resolver {
  if (!Array.isArray(addresses) || addresses.length === 0) {
    throw new InvalidArgumentError('addresses', 'a non-empty array of addresses', addresses);
  }
  const list = Object.freeze(
    addresses.map((address, index) => checkAddress(address, `addresses[${index}]`)),
  );
  let open = true;
  return {
    start(onUpdate) {
      queueMicrotask(() => {
        if (open) onUpdate(list);
      });
    },
    close() {
      open = false;
    },
  };
}

/** Options of {@link dnsResolver}. */
export interface DnsResolverOptions {
  /** How often the name is looked up again, in ms. Default 30000. */
  interval?: number;
  /** 4 or 6 for one address family; default both. */
  family?: 0 | 4 | 6;
}

/**
 * Every address `host` resolves to (with `dns.lookup`, as the system does), each with `port`,
 * looked up again every `interval` ms: new addresses get connections, removed ones are drained.
 * A failed lookup keeps the last list.
 */
export function dnsResolver(target: string, options?: DnsResolverOptions): Resolver {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(typeof target === 'string' ? target : '');
  if (match === null) throw new InvalidArgumentError('target', 'a "host:port" name', target);
  const host = match[1]!.replace(/^\[|\]$/g, '');
  const port = Number(match[2]);
  const { interval, family } = resolveDnsOptions(options);
  let timer: NodeJS.Timeout | null = null;
  let open = true;
  let last = '';
  return {
    start(onUpdate, onError) {
      const refresh = async (): Promise<void> => {
        try {
          const found = await lookup(host, { all: true, family });
          const addresses = found.map((entry) =>
            entry.family === 6 ? `[${entry.address}]:${port}` : `${entry.address}:${port}`,
          );
          addresses.sort();
          const key = addresses.join(',');
          if (open && key !== last) {
            last = key;
            onUpdate(addresses);
          }
        } catch (error) {
          if (open) onError(error as Error);
        }
        if (open) {
          timer = setTimeout(() => void refresh(), interval);
          timer.unref();
        }
      };
      void refresh();
    },
    close() {
      open = false;
      if (timer !== null) clearTimeout(timer);
    },
  };
}

/** The resolver for a client target: a resolver as is, a list, one address, or `dns:host:port`. */
export function resolveTarget(target: unknown): Resolver {
  if (typeof target === 'string') {
    if (target.startsWith('dns:')) return dnsResolver(target.slice(4));
    return staticResolver([target]);
  }
  if (Array.isArray(target)) return staticResolver(target);
  if (
    typeof target === 'object' &&
    target !== null &&
    typeof (target as Resolver).start === 'function' &&
    typeof (target as Resolver).close === 'function'
  ) {
    return target as Resolver;
  }
  throw new InvalidArgumentError(
    'target',
    'an address, a list of addresses, "dns:host:port" or a resolver',
    target,
  );
}
