/**
 * System errors shaped like Node's own (`errnoException`): native code returns `-errno`; this
 * module turns it into an Error with `code` (`'ECONNREFUSED'`), `errno` (negative) and `syscall`.
 */
import { getSystemErrorName } from 'node:util';
import { markNetpollError } from './errors';

/**
 * A failed system call. `code` is the errno name from `util.getSystemErrorName`, `errno` the
 * negative errno, `syscall` the call that failed (`'connect'`, `'bind'`, `'read'`, `'writev'`, …).
 * Carries the netpoll marker, so `isNetpollError()` is true.
 */
export class NetpollSystemError extends Error {
  declare readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly address: string | undefined;

  constructor(errno: number, syscall: string, address?: string) {
    const code = safeName(errno);
    super(`${syscall} ${code}${address === undefined ? '' : ` ${address}`}`);
    this.name = 'NetpollSystemError';
    this.errno = errno;
    this.syscall = syscall;
    this.address = address;
    markNetpollError(this, code);
  }
}

function safeName(errno: number): string {
  try {
    return getSystemErrorName(errno);
  } catch {
    return `Unknown system error ${errno}`;
  }
}

/** Builds a {@link NetpollSystemError} from a native `-errno` result. */
export function systemError(errno: number, syscall: string, address?: string): NetpollSystemError {
  return new NetpollSystemError(errno, syscall, address);
}
