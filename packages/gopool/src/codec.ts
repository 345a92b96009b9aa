/**
 * The value encoding used in the rings: a compact tagged format with fast paths for the
 * values tasks usually carry, and `v8.serialize` (the structured-clone wire format) as the
 * fallback for everything else. A value decodes to what `structuredClone` makes of it.
 *
 * Fast paths: `undefined`, `null`, booleans, numbers (int32 or float64), strings (UTF-8),
 * Buffers, typed arrays, DataViews and ArrayBuffers (bytes copied), dense arrays without
 * other own properties and plain objects (own enumerable string keys; prototype
 * `Object.prototype` or `null`) of those, as a tree: no object reached twice. A value with
 * anything else in it (a hole, a named array property, an own `__proto__` key, a shared
 * object or a cycle, a string with an unpaired surrogate, a resizable ArrayBuffer, nesting
 * deeper than 64, Map, Set, Date, RegExp, BigInt, a class instance) is encoded whole with
 * `v8.serialize`, so identities across it survive; a value structured clone rejects (a
 * function, a symbol) makes the encoder throw. Shared memory (a SharedArrayBuffer, or a view of
 * one) is not encoded: the encoder throws `kHoldsSharedMemory`, and the value travels by
 * `postMessage`, whose structured clone shares it.
 *
 * Two deliberate differences from structured clone, on both paths: a Buffer stays a Buffer,
 * and a view (typed array, DataView, Buffer) carries only the bytes it views, copied into
 * private memory, where structured clone would copy its whole ArrayBuffer and keep the
 * view's byteOffset and any sharing between views.
 */
import { Buffer } from 'node:buffer';

/** Type tags of the encoding (one byte before each value). */
export enum Tag {
  Undefined = 0,
  Null = 1,
  True = 2,
  False = 3,
  Int32 = 4,
  Float64 = 5,
  String = 6,
  Array = 7,
  Object = 8,
  Bytes = 9,
  V8 = 10,
  Error = 11,
}

/** Byte containers with their own tag kind, in a fixed order shared by both ends. */
export const kByteKinds = [
  Buffer,
  Uint8Array,
  ArrayBuffer,
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
] as const;

/** Nesting depth beyond which the structured-clone fallback takes over (it handles cycles). */
export const kMaxDepth = 64;
/** Strings up to this length try the ASCII loop, which is cheaper than a UTF-8 call. */
export const kShortString = 32;

/** Index of `value`'s class in {@link kByteKinds}, or -1. */
export function byteKind(value: object): number {
  const ctor = value.constructor;
  for (let i = 0; i < kByteKinds.length; i++) if (kByteKinds[i] === ctor) return i;
  return -1;
}

/** True for objects whose prototype is `Object.prototype` or `null`. */
export function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
