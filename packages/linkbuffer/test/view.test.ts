import { viewOf } from '../src/view';

describe('viewOf', () => {
  it('returns a real Buffer aliasing the range, usable with every Buffer API', () => {
    const memory = Buffer.from('hello world', 'latin1');
    const view = viewOf(memory, 6, 11);
    expect(Buffer.isBuffer(view)).toBe(true);
    expect(view.constructor).toBe(Buffer);
    expect(view.toString('latin1')).toBe('world');
    expect(view.byteOffset).toBe(memory.byteOffset + 6);
    view[0] = 'W'.charCodeAt(0);
    expect(memory.toString('latin1')).toBe('hello World');
    expect(view.subarray(1, 3).toString('latin1')).toBe('or');
    expect(Buffer.isBuffer(view.subarray(1, 3))).toBe(true);
    expect(Buffer.concat([view, view]).toString('latin1')).toBe('WorldWorld');
    expect(view.equals(Buffer.from('World'))).toBe(true);
    expect(view.readUInt16BE(0)).toBe(0x576f);
  });

  it('works over a SharedArrayBuffer', () => {
    const shared = Buffer.from(new SharedArrayBuffer(8));
    shared.fill(3);
    const view = viewOf(shared, 2, 6);
    expect(view.length).toBe(4);
    expect(view.buffer).toBe(shared.buffer);
    expect([...view]).toEqual([3, 3, 3, 3]);
  });
});
