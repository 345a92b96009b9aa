import { LinkBuffer } from '../src/link-buffer';
import { put, text } from './helpers/fill';

/** A subclass whose public methods misbehave, to prove internal paths never dispatch to them. */
class Hostile extends LinkBuffer {
  releases = 0;
  override release(): void {
    this.releases++;
    super.release();
  }
  override next(): Buffer {
    throw new Error('overridden next() must not be used internally');
  }
  override peek(): Buffer {
    throw new Error('overridden peek() must not be used internally');
  }
  override indexByte(): number {
    throw new Error('overridden indexByte() must not be used internally');
  }
  override forEachChunk(): number {
    throw new Error('overridden forEachChunk() must not be used internally');
  }
}

describe('LinkBuffer subclasses (as @netpoll/core extends it)', () => {
  it('slice, until and getBytes use internal paths, not overridable public methods', () => {
    const buffer = new Hostile({ nodeSize: 2 });
    put(buffer, 'ab');
    put(buffer, 'cd\nef');
    expect(text(buffer.until(10))).toBe('abcd\n');
    expect(buffer.getBytes().map(text)).toEqual(['ef']);
    const slice = buffer.slice(1);
    expect(buffer.releases).toBe(0);
    expect(slice.readString(1)).toBe('e');
    expect(slice).toBeInstanceOf(LinkBuffer);
    expect(slice).not.toBeInstanceOf(Hostile);
    buffer.release();
    expect(buffer.releases).toBe(1);
  });

  it('append accepts subclass instances and closes them', () => {
    const source = new Hostile();
    put(source, 'xyz');
    const destination = new LinkBuffer();
    destination.append(source);
    expect(source.closed).toBe(true);
    expect(destination.readString(3)).toBe('xyz');
  });
});
