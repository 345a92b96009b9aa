import { retainedThroughScavenges } from '@netpoll/jest-config/heap';
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

  it('lets the elements it moved in a growth die in scavenges when the array it left was old', () => {
    let fifo = new Fifo<object>(64);
    let grown = false;
    const retained = retainedThroughScavenges(
      // A fresh queue of 64 slots, used a little: the full GC makes its array old.
      () => {
        if (grown) fifo = new Fifo<object>(64);
        grown = false;
        for (let i = 0; i < 100; i++) {
          fifo.push({});
          fifo.shift();
        }
      },
      () => {
        // 64 elements of 96 KiB each fill it; the 65th moves them all to a new array.
        for (let i = 0; i <= 64; i++) fifo.push(new Array<number>(12_288).fill(i));
        grown = true;
        while (fifo.shift() !== undefined);
        expect(fifo.size).toBe(0);
      },
    );
    // Measured: a queue that left the moved elements in the old array kept them all, 6 MB.
    expect(retained).toBeLessThan(1024 * 1024);
  });
});
