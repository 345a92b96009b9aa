/**
 * Big-endian unsigned integers in node memory: the decoders and encoders behind LinkBuffer's
 * `peek*`/`read*`/`write*` integer methods, the value checks of the writers, and the scratch
 * bytes an integer that straddles nodes is gathered into (so no read allocates a Buffer or view)
 * by the slow paths of the readers, `gather()` and `take()`.
 * Internal: not re-exported from the package entry point.
 */
import { consume, copyOut } from './chain-reads';
import { InvalidArgumentError, integerError, NotEnoughDataError, OutOfRangeError } from './errors';
import { advanceRead, checkReadable, type NodeChain } from './node-chain';

/**
 * Where an integer split across nodes is gathered before it is decoded. One per thread is enough:
 * it is filled and decoded within one method call, which runs no user code in between.
 */
export const kIntegerScratch = new Uint8Array(8);

const kTwo32 = 0x1_0000_0000;
/** Above this high word, `high * 2^32 + low` is no longer exact in a double. */
const kExactHigh = 0x20_0000;

/** The big-endian uint16 at `bytes[at, at + 2)`; the caller checked the bounds. */
export function uint16At(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

/** The big-endian uint32 at `bytes[at, at + 4)`; the caller checked the bounds. */
export function uint32At(bytes: Uint8Array, at: number): number {
  // The top byte is multiplied rather than shifted so values of 2^31 and above stay positive.
  return bytes[at]! * 0x1000000 + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
}

/** The big-endian uint64 at `bytes[at, at + 8)` as a BigInt; the caller checked the bounds. */
export function bigUint64At(bytes: Uint8Array, at: number): bigint {
  const high = uint32At(bytes, at);
  const low = uint32At(bytes, at + 4);
  // Below 2^53 one exact double makes one BigInt; above, the halves are combined.
  if (high < kExactHigh) return BigInt(high * kTwo32 + low);
  return (BigInt(high) << 32n) | BigInt(low);
}

/** Stores `value` (0–65535) big-endian at `bytes[at, at + 2)`; the caller checked the bounds. */
export function putUint16(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 8;
  bytes[at + 1] = value;
}

/** Stores `value` (0–4294967295) big-endian at `bytes[at, at + 4)`; the caller checked the bounds. */
export function putUint32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = value >>> 16;
  bytes[at + 2] = value >>> 8;
  bytes[at + 3] = value;
}

/** Stores `value` (0n–2^64-1) big-endian at `bytes[at, at + 8)`; the caller checked the bounds. */
export function putBigUint64(bytes: Uint8Array, at: number, value: bigint): void {
  putUint32(bytes, at, Number(value >> 32n));
  putUint32(bytes, at + 4, Number(value & 0xffff_ffffn));
}

/**
 * Throws unless `value` is an integer from 0 to 65535: `ERR_NETPOLL_INVALID_ARG` for anything that
 * is not a safe integer, `ERR_NETPOLL_OUT_OF_RANGE` for one outside the range.
 */
export function checkUint16(value: number): void {
  if (typeof value !== 'number' || value !== (value & 0xffff)) {
    throw integerError('value', 'an integer from 0 to 65535', value);
  }
}

/** As {@link checkUint16} for 0 to 4294967295. */
export function checkUint32(value: number): void {
  if (typeof value !== 'number' || value !== value >>> 0) {
    throw integerError('value', 'an integer from 0 to 4294967295', value);
  }
}

/**
 * Throws unless `value` is a BigInt from 0n to 2^64 - 1: `ERR_NETPOLL_INVALID_ARG` for any other
 * type (a number included), `ERR_NETPOLL_OUT_OF_RANGE` for a BigInt outside the range.
 */
export function checkBigUint64(value: bigint): void {
  if (typeof value !== 'bigint') {
    throw new InvalidArgumentError('value', 'a bigint from 0n to 18446744073709551615n', value);
  }
  if (BigInt.asUintN(64, value) !== value) {
    throw new OutOfRangeError('value', 'a bigint from 0n to 18446744073709551615n', value);
  }
}

/**
 * The `size` readable bytes at `offset` past the read position, gathered into the integer
 * scratch array when they are not inside the read node (the `peek*` integer methods' slow path).
 * Does not consume. Throws the coded errors of the `peek*` integer methods.
 */
export function gather(chain: NodeChain, method: string, offset: number, size: number): Uint8Array {
  if (typeof offset !== 'number' || offset >>> 0 !== offset) {
    throw integerError('offset', 'an integer from 0 to 4294967295', offset);
  }
  if (chain.length < offset + size) {
    checkReadable(chain, method);
    throw new NotEnoughDataError(`${method}()`, offset + size, chain.length);
  }
  // Usually the read node is merely used up (after release()) and the bytes sit in the next.
  advanceRead(chain);
  copyOut(chain, offset, kIntegerScratch, 0, size);
  return kIntegerScratch;
}

/**
 * Consumes the next `size` readable bytes into the integer scratch array (the `read*` integer
 * methods' slow path).
 */
export function take(chain: NodeChain, method: string, size: number): Uint8Array {
  if (chain.length < size) {
    checkReadable(chain, method);
    throw new NotEnoughDataError(`${method}()`, size, chain.length);
  }
  consume(chain, size, kIntegerScratch, 0);
  return kIntegerScratch;
}
