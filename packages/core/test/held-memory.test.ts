import { retainedThroughScavenges } from '@netpoll/jest-config/heap';
import { HeldMemory } from '../src/held-memory';
import type { Reactor } from '../src/reactor';

function setup(): { held: HeldMemory; freed: string[] } {
  const freed: string[] = [];
  const reactor = {
    outbound: { free: (buffer: Buffer) => freed.push(`out:${buffer.toString()}`) },
    inbound: { releaseRegion: (token: number) => freed.push(`in:${token}`) },
  } as unknown as Reactor;
  return { held: new HeldMemory(reactor), freed };
}

describe('HeldMemory', () => {
  it('frees entries in order once the written offset passes their end', () => {
    const { held, freed } = setup();
    held.push(10, Buffer.from('a'), -1);
    held.push(20, null, 3);
    held.push(30, Buffer.from('b'), -1);
    held.releaseUpTo(19);
    expect(freed).toEqual(['out:a']);
    held.releaseUpTo(30);
    expect(freed).toEqual(['out:a', 'in:3', 'out:b']);
    held.releaseUpTo(1000);
    expect(freed).toHaveLength(3);
  });

  it('keeps order across wrap-around and growth beyond the initial capacity', () => {
    const { held, freed } = setup();
    // Entry i ends at 10 * (i + 1). Wrap the 8-entry ring, then grow it while its head sits in
    // the middle.
    for (let i = 0; i < 6; i++) held.push(10 * (i + 1), null, i);
    held.releaseUpTo(40);
    for (let i = 6; i < 26; i++) held.push(10 * (i + 1), null, i);
    held.releaseUpTo(250);
    held.releaseAll();
    expect(freed).toEqual(Array.from({ length: 26 }, (_, i) => `in:${i}`));
  });

  it('lets the entries it moved in a growth die in scavenges when the array it left was old', () => {
    let held = setup().held;
    let grown = false;
    // Entries that keep 96 KiB of heap each (a real one is a Buffer over outbound memory).
    const entry = (i: number) =>
      ({ bytes: new Array<number>(12_288).fill(i) }) as unknown as Buffer;
    const retained = retainedThroughScavenges(
      // A ring grown to 64 entries and emptied: the full GC makes its arrays old.
      () => {
        if (grown) held = setup().held;
        grown = false;
        for (let i = 0; i < 64; i++) held.push(i + 1, Buffer.alloc(0), -1);
        held.releaseAll();
      },
      () => {
        // 64 entries fill it; the 65th moves them all to new arrays.
        for (let i = 0; i <= 64; i++) held.push(i + 1, entry(i), -1);
        grown = true;
        held.releaseAll();
      },
    );
    // Measured: a ring that left the moved entries in the old array kept them all, about 6 MB.
    expect(retained).toBeLessThan(1024 * 1024);
  });
});
