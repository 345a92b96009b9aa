/**
 * Deep equality for comparing a copy with what structuredClone makes, across realms.
 *
 * `util.isDeepStrictEqual` would do, except that it compares prototypes by identity: under
 * jest the test's objects come from the test's vm context, while structuredClone and
 * `v8.deserialize` build theirs in Node's main context, so `[]` from one is never equal to
 * `[]` from the other. This compares prototypes by constructor name instead and is otherwise
 * at least as strict: own enumerable string keys in order (so a hole differs from
 * `undefined`, and an own `__proto__` key from a prototype), `Object.is` for primitives,
 * bytes for binary data, entries in order for Map and Set. Shared objects and cycles are
 * followed, not compared as a structure; see `referenceShape` for that.
 */
export function sameClone(a: unknown, b: unknown): boolean {
  return equal(a, b, new Map());
}

const tagOf = (value: object): string => Object.prototype.toString.call(value);

function protoName(value: object): string {
  const proto = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null;
  return proto === null ? 'null' : String(proto.constructor?.name);
}

function bytesOf(value: object): Uint8Array {
  if (ArrayBuffer.isView(value))
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return new Uint8Array(value as ArrayBuffer);
}

function equal(a: unknown, b: unknown, pairs: Map<object, object>): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) {
    return Object.is(a, b);
  }
  const paired = pairs.get(a);
  if (paired !== undefined) return paired === b;
  pairs.set(a, b);
  const tag = tagOf(a);
  if (tag !== tagOf(b) || protoName(a) !== protoName(b)) return false;
  if (ArrayBuffer.isView(a) || tag === '[object ArrayBuffer]') {
    const x = bytesOf(a);
    const y = bytesOf(b);
    return x.length === y.length && x.every((byte, i) => byte === y[i]);
  }
  switch (tag) {
    case '[object Date]':
      return Object.is((a as Date).getTime(), (b as Date).getTime());
    case '[object Error]':
      if ((a as Error).name !== (b as Error).name || (a as Error).message !== (b as Error).message)
        return false;
      break;
    case '[object RegExp]':
      return String(a) === String(b) && (a as RegExp).lastIndex === (b as RegExp).lastIndex;
    case '[object Number]':
    case '[object String]':
    case '[object Boolean]':
    case '[object BigInt]':
      if (!Object.is((a as object).valueOf(), (b as object).valueOf())) return false;
      break;
    case '[object Map]':
    case '[object Set]': {
      const x = [...(a as Map<unknown, unknown>).entries()];
      const y = [...(b as Map<unknown, unknown>).entries()];
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) {
        if (!equal(x[i]![0], y[i]![0], pairs) || !equal(x[i]![1], y[i]![1], pairs)) return false;
      }
      break;
    }
  }
  if (Array.isArray(a) && a.length !== (b as unknown[]).length) return false;
  const keys = Object.keys(a);
  const otherKeys = Object.keys(b);
  if (keys.length !== otherKeys.length) return false;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (key !== otherKeys[i]) return false;
    const x = (a as Record<string, unknown>)[key];
    const y = (b as Record<string, unknown>)[key];
    if (!equal(x, y, pairs)) return false;
  }
  return true;
}
