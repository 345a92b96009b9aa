/**
 * The writing half of the ring value encoding (see `codec.ts` for the format).
 */
import { serialize } from 'node:v8';
import { byteKind, isPlainObject, kMaxDepth, kShortString, Tag } from './codec';

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

  /** Writes a string's UTF-8 bytes preceded by their u32 length. */
  rawString(value: string): void {
    const length = value.length;
    this.ensure(4 + length * 3);
    const start = this.pos + 4;
    let ascii = length <= kShortString;
    if (ascii) {
      const buf = this.buf;
      for (let i = 0; i < length; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) {
          ascii = false;
          break;
        }
        buf[start + i] = c;
      }
    }
    const written = ascii ? length : this.buf.write(value, start, 'utf8');
    this.#view.setUint32(this.pos, written, true);
    this.pos = start + written;
  }

  /** Writes `value` in the tagged format. Throws what `v8.serialize` throws for uncloneable values. */
  value(value: unknown, depth = 0): void {
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
        return;
      case 'string':
        this.u8(Tag.String);
        this.rawString(value);
        return;
      case 'undefined':
        this.u8(Tag.Undefined);
        return;
      case 'boolean':
        this.u8(value ? Tag.True : Tag.False);
        return;
      case 'object':
        if (value === null) this.u8(Tag.Null);
        else this.#object(value, depth);
        return;
      default:
        this.#v8(value);
    }
  }

  #object(value: object, depth: number): void {
    if (depth >= kMaxDepth) {
      this.#v8(value);
      return;
    }
    if (Array.isArray(value) && Object.getPrototypeOf(value) === Array.prototype) {
      const length = value.length;
      this.u8(Tag.Array);
      this.u32(length);
      for (let i = 0; i < length; i++) this.value(value[i], depth + 1);
      return;
    }
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
      const kind = byteKind(value);
      if (kind >= 0) {
        const bytes =
          value instanceof ArrayBuffer
            ? new Uint8Array(value)
            : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
        this.u8(Tag.Bytes);
        this.u8(kind);
        this.u32(bytes.length);
        this.ensure(bytes.length);
        this.buf.set(bytes, this.pos);
        this.pos += bytes.length;
        return;
      }
    } else if (isPlainObject(value)) {
      this.u8(Tag.Object);
      const countAt = this.pos;
      this.u32(0);
      let count = 0;
      for (const key in value) {
        this.rawString(key);
        this.value((value as Record<string, unknown>)[key], depth + 1);
        count++;
      }
      this.u32At(countAt, count);
      return;
    }
    this.#v8(value);
  }

  #v8(value: unknown): void {
    const bytes = serialize(value);
    this.u8(Tag.V8);
    this.u32(bytes.length);
    this.ensure(bytes.length);
    bytes.copy(this.buf, this.pos);
    this.pos += bytes.length;
  }

  /**
   * Writes a thrown value. Errors keep `name`, `message`, `stack` and their own enumerable
   * properties (such as `code`) when those can be encoded; other thrown values are encoded
   * as values.
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
      this.pos = start + 1;
      this.value({ name: error.name, message: error.message, stack: error.stack });
    }
  }
}
