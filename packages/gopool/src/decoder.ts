/**
 * The reading half of the ring value encoding (see `codec.ts` for the format).
 */
import { Buffer } from 'node:buffer';
import { deserialize } from 'node:v8';
import { kByteKinds, kShortString, Tag } from './codec';

/**
 * Reads tagged values from a buffer (a ring in shared memory, or a private copy). Every
 * decoded byte container is a fresh copy, so results never alias the ring.
 */
export class Decoder {
  readonly #bytes: Buffer;
  readonly #view: DataView;
  /** The read position. */
  pos = 0;

  constructor(bytes: Buffer) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  u8(): number {
    return this.#bytes[this.pos++]!;
  }

  u32(): number {
    const v = this.#view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  rawString(): string {
    const length = this.u32();
    const start = this.pos;
    this.pos = start + length;
    if (length <= kShortString) {
      const bytes = this.#bytes;
      let s = '';
      for (let i = start; i < start + length; i++) {
        const c = bytes[i]!;
        if (c >= 0x80) return bytes.toString('utf8', start, start + length);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return this.#bytes.toString('utf8', start, start + length);
  }

  value(): unknown {
    const tag = this.#bytes[this.pos++];
    switch (tag) {
      case Tag.Int32: {
        const v = this.#view.getInt32(this.pos, true);
        this.pos += 4;
        return v;
      }
      case Tag.Float64: {
        const v = this.#view.getFloat64(this.pos, true);
        this.pos += 8;
        return v;
      }
      case Tag.String:
        return this.rawString();
      case Tag.Undefined:
        return undefined;
      case Tag.Null:
        return null;
      case Tag.True:
        return true;
      case Tag.False:
        return false;
      case Tag.Array: {
        const length = this.u32();
        const out = new Array<unknown>(length);
        for (let i = 0; i < length; i++) out[i] = this.value();
        return out;
      }
      case Tag.Object: {
        const count = this.u32();
        const out: Record<string, unknown> = {};
        for (let i = 0; i < count; i++) {
          const key = this.rawString();
          out[key] = this.value();
        }
        return out;
      }
      case Tag.Bytes:
        return this.#bytesValue();
      case Tag.V8: {
        const length = this.u32();
        const copy = Buffer.from(this.#bytes.subarray(this.pos, this.pos + length));
        this.pos += length;
        return deserialize(copy);
      }
      case Tag.Error:
        return this.#errorValue();
      default:
        throw new Error(`gopool codec: unknown tag ${tag} at ${this.pos - 1}`);
    }
  }

  #bytesValue(): unknown {
    const kind = this.u8();
    const length = this.u32();
    const source = this.#bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    if (kind === 0) {
      const copy = Buffer.allocUnsafe(length);
      copy.set(source);
      return copy;
    }
    const ab = new Uint8Array(source).buffer; // A private, non-shared copy.
    const ctor = kByteKinds[kind];
    if (ctor === ArrayBuffer) return ab;
    if (ctor === undefined || ctor === Buffer)
      throw new Error(`gopool codec: bad byte kind ${kind}`);
    return new (ctor as new (buffer: ArrayBuffer) => unknown)(ab);
  }

  #errorValue(): unknown {
    const fields = this.value() as Record<string, unknown>;
    const message = typeof fields.message === 'string' ? fields.message : '';
    const ctor =
      fields.name === 'TypeError' ? TypeError : fields.name === 'RangeError' ? RangeError : Error;
    const error = new ctor(message) as Error & Record<string, unknown>;
    for (const key in fields) {
      if (key === 'message') continue;
      Object.defineProperty(error, key, {
        value: fields[key],
        writable: true,
        configurable: true,
        enumerable: key !== 'name' && key !== 'stack',
      });
    }
    return error;
  }
}
