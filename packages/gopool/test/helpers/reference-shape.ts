/**
 * The reference structure of a value, for comparing a copy with structuredClone's: a
 * depth-first walk (own enumerable string keys, Map entries, Set members) that records -1 for
 * each object met the first time and the index of its first visit for each object met again.
 * `isDeepStrictEqual` cannot tell `[o, o]` from `[{}, {}]`; two values with the same shape can.
 */
export function referenceShape(value: unknown): number[] {
  const seen = new Map<object, number>();
  const shape: number[] = [];
  const walk = (current: unknown): void => {
    if (typeof current !== 'object' || current === null) return;
    const first = seen.get(current);
    if (first !== undefined) {
      shape.push(first);
      return;
    }
    seen.set(current, seen.size);
    shape.push(-1);
    if (current instanceof Map) {
      for (const [key, member] of current) {
        walk(key);
        walk(member);
      }
    } else if (current instanceof Set) {
      for (const member of current) walk(member);
    } else if (!ArrayBuffer.isView(current) && !(current instanceof ArrayBuffer)) {
      for (const key of Object.keys(current)) walk((current as Record<string, unknown>)[key]);
    }
  };
  walk(value);
  return shape;
}
