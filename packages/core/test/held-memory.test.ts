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
});
