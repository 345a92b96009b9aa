/**
 * The writing half of the ring value encoding (see `codec.ts` for the format).
 */
import { Buffer } from 'node:buffer';
import { types } from 'node:util';
import { DefaultSerializer } from 'node:v8';
import { byteKind, isPlainObject, kMaxDepth, kShortString, Tag } from './codec';

const hasOwn = Object.prototype.hasOwnProperty;
/** Non-ASCII strings up to this length are checked with isWellFormed, longer ones first by memchr. */
const kWellFormedScan = 64;
/** Objects per value tracked in a list; beyond it, in a WeakMap. */
const kSeenListSize = 16;

/**
 * What the encoder throws for a value that holds shared memory (a SharedArrayBuffer, or a view
 * of one): ring bytes can only copy it, so the value travels by `postMessage`, whose structured
 * clone shares it. One instance, compared by identity.
 */
export const kHoldsSharedMemory: Error = new Error('the value holds shared memory');

/** A `v8.Serializer` hook (documented in `node:v8`, missing from its typings). */
interface HostObjectWriter {
  _writeHostObject(object: object): void;
}
const writeHostObject = (DefaultSerializer.prototype as unknown as HostObjectWriter)
  ._writeHostObject;

/** `v8.serialize`'s serializer, refusing shared memory instead of copying a view of it. */
class RingSerializer extends DefaultSerializer {
  _getSharedArrayBufferId(): number {
    throw kHoldsSharedMemory;
  }

  _writeHostObject(view: object): void {
    if (types.isSharedArrayBuffer((view as ArrayBufferView).buffer)) throw kHoldsSharedMemory;
    writeHostObject.call(this, view);
  }
}

/**
 * Writes values into a private growable scratch buffer. One encoder per thread; `reset()`
 * before each record. Not re-entrant.
 */
export class Encoder {
  /** The scratch bytes; valid up to {@link pos}. */
  buf: Buffer = Buffer.allocUnsafeSlow(4096);
  #view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  /** The write position. */
  pos = 0;
  // The objects the value being written reaches: a list, then past kSeenListSize a WeakMap
  // whose entries carry the stamp of the value that reached them (see #enter).
  readonly #seen: (object | undefined)[] = new Array<undefined>(kSeenListSize).fill(undefined);
  #seenCount = 0;
  readonly #seenMore = new WeakMap<object, number>();
  #stamp = 0;

  /** Starts a record: the next byte written goes to `pos`. */
  reset(pos: number): void {
    this.pos = pos;
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.#view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  u8(value: number): void {
    this.ensure(1);
    this.buf[this.pos++] = value;
  }

  u16(value: number): void {
    this.ensure(2);
    this.#view.setUint16(this.pos, value, true);
    this.pos += 2;
  }

  u32(value: number): void {
    this.ensure(4);
    this.#view.setUint32(this.pos, value, true);
    this.pos += 4;
  }

  /**
   * Writes a 16-byte record header at `pos`: a u32 length placeholder, then `id`, `meta` and
   * `slot` (u32, little-endian).
   */
  header(id: number, meta: number, slot: number): void {
    this.ensure(16);
    const view = this.#view;
    view.setUint32(this.pos, 0, true);
    view.setUint32(this.pos + 4, id, true);
    view.setUint32(this.pos + 8, meta, true);
    view.setUint32(this.pos + 12, slot, true);
    this.pos += 16;
  }

  /** Overwrites the u32 at `at` (for lengths known only after the fact). */
  u32At(at: number, value: number): void {
    this.#view.setUint32(at, value, true);
  }

  /**
   * Writes a string's UTF-8 bytes preceded by their u32 length. Returns false when the string
   * has an unpaired surrogate, which UTF-8 cannot carry (it arrives as U+FFFD); the bytes are
   * written either way.
   */
  rawString(value: string): boolean {
    const length = value.length;
    this.ensure(5 + length * 3); // Length, UTF-8 bytes (at most 3 per UTF-16 unit), sentinel.
    const start = this.pos + 4;
    const buf = this.buf;
    let ascii = length <= kShortString;
    if (ascii) {
      for (let i = 0; i < length; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) {
          ascii = false;
          break;
        }
        buf[start + i] = c;
      }
    }
    const written = ascii ? length : buf.write(value, start, 'utf8');
    this.#view.setUint32(this.pos, written, true);
    this.pos = start + written;
    if (written === length) return true; // ASCII only.
    if (length <= kWellFormedScan) return value.isWellFormed();
    // UTF-8 writes each unpaired surrogate as U+FFFD (EF BF BD), so a string that wrote no
    // 0xEF byte has none. On a long two-byte string, isWellFormed's scan costs about 40% of
    // the UTF-8 write; memchr up to a sentinel byte, a few percent.
    buf[start + written] = 0xef;
    return buf.indexOf(0xef, start) === start + written || value.isWellFormed();
  }

  /**
   * Writes `value` in the tagged format, so that it decodes to what `structuredClone(value)`
   * makes of it (see `codec.ts` for the two deliberate differences). Trees of fast-path
   * values are written in the tagged format; a value with anything else in it is written
   * whole with `v8.serialize`. Throws what `v8.serialize` throws for uncloneable values, and
   * {@link kHoldsSharedMemory} for a value that holds shared memory.
   */
  value(value: unknown): void {
    const start = this.pos;
    let simple = false;
    try {
      simple = this.#value(value, 0);
    } finally {
      this.#forget();
    }
    if (!simple) {
      // Whole, not just the part that needs it: only then do objects shared between that
      // part and the rest keep their identity.
      this.pos = start;
      this.#v8(value);
    }
  }

  /** Writes a fast-path value; false when `value` needs the structured-clone fallback. */
  #value(value: unknown, depth: number): boolean {
    switch (typeof value) {
      case 'number':
        if ((value | 0) === value && !Object.is(value, -0)) {
          this.ensure(5);
          this.buf[this.pos] = Tag.Int32;
          this.#view.setInt32(this.pos + 1, value, true);
          this.pos += 5;
        } else {
          this.ensure(9);
          this.buf[this.pos] = Tag.Float64;
          this.#view.setFloat64(this.pos + 1, value, true);
          this.pos += 9;
        }
        return true;
      case 'string':
        this.u8(Tag.String);
        return this.rawString(value);
      case 'undefined':
        this.u8(Tag.Undefined);
        return true;
      case 'boolean':
        this.u8(value ? Tag.True : Tag.False);
        return true;
      case 'object':
        if (value !== null) return this.#object(value, depth);
        this.u8(Tag.Null);
        return true;
      default:
        // BigInt, or what structured clone refuses (a function, a symbol): its call.
        return false;
    }
  }

  #object(value: object, depth: number): boolean {
    if (depth >= kMaxDepth || !this.#enter(value)) return false;
    if (Array.isArray(value)) {
      return Object.getPrototypeOf(value) === Array.prototype && this.#array(value, depth);
    }
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return this.#bytes(value);
    if (!isPlainObject(value)) return false;
    this.u8(Tag.Object);
    const countAt = this.pos;
    this.u32(0);
    let count = 0;
    for (const key in value) {
      // for-in also lists enumerable keys inherited from a polluted Object.prototype, which
      // structured clone ignores. An own "__proto__" key could only be re-created with
      // defineProperty; it is rare enough to leave to the fallback.
      if (!hasOwn.call(value, key)) continue;
      if (key === '__proto__' || !this.rawString(key)) return false;
      if (!this.#value((value as Record<string, unknown>)[key], depth + 1)) return false;
      count++;
    }
    this.u32At(countAt, count);
    return true;
  }

  /**
   * A dense array without other own properties; anything else (holes, named properties)
   * needs the fallback. `Object.values` sees both at the cost of one call: it lists the
   * elements that exist, then the named properties, and reads each property once.
   */
  #array(array: unknown[], depth: number): boolean {
    const length = array.length;
    const values = Object.values(array);
    if (values.length !== length) return false;
    this.u8(Tag.Array);
    this.u32(length);
    for (let i = 0; i < length; i++) {
      // With as many holes as named properties the counts match; the holes still show here.
      if (!(i in array) || !this.#value(values[i], depth + 1)) return false;
    }
    return true;
  }

  #bytes(value: ArrayBufferView | ArrayBuffer): boolean {
    const kind = byteKind(value);
    // A resizable ArrayBuffer stays resizable only through structured clone.
    if (kind < 0 || (value instanceof ArrayBuffer && value.resizable)) return false;
    if (value instanceof ArrayBuffer) return this.#copy(new Uint8Array(value), kind);
    const memory = value.buffer;
    // Any realm's (a vm context's, a test runner's), not only this one's.
    if (types.isSharedArrayBuffer(memory)) throw kHoldsSharedMemory;
    return this.#copy(new Uint8Array(memory, value.byteOffset, value.byteLength), kind);
  }

  /** Writes a copy of `bytes`, to arrive as a `kind` (see `kByteKinds`). */
  #copy(bytes: Uint8Array, kind: number): boolean {
    this.u8(Tag.Bytes);
    this.u8(kind);
    this.u32(bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return true;
  }

  /**
   * Records that the value being written reaches `object`; false when it did already (a
   * shared object or a cycle, whose identity only the fallback keeps). The first objects go
   * in a list scanned in full, cheaper than any map for the few a typical value has; the rest
   * in a WeakMap stamped with a number per value, which needs no clearing and keeps nothing
   * alive (a Set cleared after each value costs about twice as much per object).
   */
  #enter(object: object): boolean {
    const count = this.#seenCount;
    if (count < kSeenListSize) {
      const seen = this.#seen;
      for (let i = 0; i < count; i++) if (seen[i] === object) return false;
      seen[count] = object;
    } else {
      const more = this.#seenMore;
      let stamp = this.#stamp;
      if (count === kSeenListSize) {
        this.#stamp = ++stamp;
        for (const entry of this.#seen) more.set(entry!, stamp);
      }
      if (more.get(object) === stamp) return false;
      more.set(object, stamp);
    }
    this.#seenCount = count + 1;
    return true;
  }

  /** Drops the list's references, so that encoded values can be collected. */
  #forget(): void {
    const count = Math.min(this.#seenCount, kSeenListSize);
    const seen = this.#seen;
    for (let i = 0; i < count; i++) seen[i] = undefined;
    this.#seenCount = 0;
  }

  #v8(value: unknown): void {
    const serializer = new RingSerializer();
    serializer.writeHeader();
    serializer.writeValue(value);
    const bytes = serializer.releaseBuffer();
    this.u8(Tag.V8);
    this.u32(bytes.length);
    this.ensure(bytes.length);
    bytes.copy(this.buf, this.pos);
    this.pos += bytes.length;
  }

  /**
   * Writes a thrown value. Errors keep `name`, `message`, `stack` and those of their own
   * enumerable properties (such as `code`) that can be encoded: one that cannot (a function, a
   * symbol, shared memory) is left out, the others stay. Other thrown values are encoded as
   * values.
   */
  error(error: unknown): void {
    if (!(error instanceof Error)) {
      this.value(error);
      return;
    }
    const start = this.pos;
    const fields: Record<string, unknown> = { ...error };
    fields.name = error.name;
    fields.message = error.message;
    fields.stack = error.stack;
    this.u8(Tag.Error);
    try {
      this.value(fields);
    } catch {
      // Keep the fields that encode on their own, then encode them together as before (so an
      // own `__proto__` key, identities between fields and unpaired surrogates stay as they do).
      const kept: Record<string, unknown> = {};
      for (const key of Object.keys(fields)) {
        const field = fields[key];
        this.pos = start + 1;
        try {
          this.value(field);
        } catch {
          continue;
        }
        Object.defineProperty(kept, key, {
          value: field,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      }
      this.pos = start + 1;
      this.value(kept);
    }
  }
}
