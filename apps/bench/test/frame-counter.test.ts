import { encodeFrames, FrameCounter } from '../src/frame-counter';

describe('FrameCounter', () => {
  it('counts frames fed one byte at a time, headers and payloads straddling pieces', () => {
    const stream = encodeFrames(5, 3);
    expect(stream.length).toBe(27);
    expect(stream.readUInt32BE(9)).toBe(5);
    const counter = new FrameCounter(5);
    let frames = 0;
    const completedAt: number[] = [];
    for (let index = 0; index < stream.length; index++) {
      const done = counter.feed(stream, index, index + 1);
      frames += done;
      if (done > 0) completedAt.push(index);
    }
    expect(frames).toBe(3);
    expect(completedAt).toEqual([8, 17, 26]);
  });

  it('counts several frames in one piece, including empty payloads', () => {
    const counter = new FrameCounter(16);
    expect(counter.feed(Buffer.concat([encodeFrames(0, 4), encodeFrames(16, 2)]), 0, 56)).toBe(6);
  });

  it('completes an empty frame whose header ends a piece', () => {
    const counter = new FrameCounter(16);
    const stream = encodeFrames(0, 2);
    expect(counter.feed(stream, 0, 4)).toBe(1);
    expect(counter.feed(stream, 4, 6)).toBe(0);
    expect(counter.feed(stream, 6, 8)).toBe(1);
  });

  it('throws when a header exceeds the maximum frame size', () => {
    const counter = new FrameCounter(4);
    expect(() => counter.feed(encodeFrames(5, 1), 0, 9)).toThrow('frame of 5 bytes exceeds 4');
  });
});
