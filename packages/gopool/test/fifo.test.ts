import { Fifo } from '../src/fifo';

describe('Fifo', () => {
  it('returns elements in insertion order and grows past its initial capacity', () => {
    const fifo = new Fifo<number>(4);
    for (let i = 0; i < 100; i++) fifo.push(i);
    expect(fifo.size).toBe(100);
    const out: number[] = [];
    for (let v = fifo.shift(); v !== undefined; v = fifo.shift()) out.push(v);
    expect(out).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(fifo.shift()).toBeUndefined();
    expect(fifo.peek()).toBeUndefined();
  });

  it('puts unshifted elements first, also across wrap-around and growth', () => {
    const fifo = new Fifo<number>(4);
    fifo.push(1);
    fifo.push(2);
    fifo.shift();
    fifo.unshift(0);
    for (let i = 3; i < 10; i++) fifo.push(i);
    fifo.unshift(-1);
    expect(fifo.peek()).toBe(-1);
    const out: number[] = [];
    for (let v = fifo.shift(); v !== undefined; v = fifo.shift()) out.push(v);
    expect(out).toEqual([-1, 0, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('removes matching elements and keeps the order of the rest', () => {
    const fifo = new Fifo<number>();
    for (let i = 0; i < 10; i++) fifo.push(i);
    expect(fifo.removeWhere((v) => v % 3 === 0)).toBe(4);
    const out: number[] = [];
    for (let v = fifo.shift(); v !== undefined; v = fifo.shift()) out.push(v);
    expect(out).toEqual([1, 2, 4, 5, 7, 8]);
  });
});
