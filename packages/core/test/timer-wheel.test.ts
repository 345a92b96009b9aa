import { type TimerTarget, TimerWheel } from '../src/timer-wheel';

describe('TimerWheel', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  function target(fired: number[]): TimerTarget {
    return { onTimer: (now) => fired.push(now) };
  }

  it('fires a target at or after its deadline, never before', () => {
    let now = 1000;
    const wheel = new TimerWheel(10, () => now);
    const fired: number[] = [];
    wheel.schedule(target(fired), 1045);
    now = 1040;
    jest.advanceTimersByTime(40);
    expect(fired).toEqual([]);
    now = 1060;
    jest.advanceTimersByTime(20);
    expect(fired).toEqual([1060]);
    expect(wheel.size).toBe(0);
  });

  it('keeps deadlines more than one turn away until their turn', () => {
    let now = 0;
    const wheel = new TimerWheel(1, () => now);
    const fired: number[] = [];
    wheel.schedule(target(fired), 700); // 512 slots of 1 ms: more than one turn
    for (let t = 1; t <= 699; t++) {
      now = t;
      jest.advanceTimersByTime(1);
    }
    expect(fired).toEqual([]);
    now = 701;
    jest.advanceTimersByTime(2);
    expect(fired).toEqual([701]);
  });

  it('keeps the earliest deadline when a target is scheduled twice in one slot', () => {
    let now = 0;
    const wheel = new TimerWheel(10, () => now);
    const fired: number[] = [];
    const entry = target(fired);
    wheel.schedule(entry, 25);
    wheel.schedule(entry, 21);
    expect(wheel.size).toBe(1);
    now = 30;
    jest.advanceTimersByTime(30);
    expect(fired).toEqual([30]);
  });

  it('clear() drops every entry and the Node timer', () => {
    const wheel = new TimerWheel(10, () => 0);
    const fired: number[] = [];
    wheel.schedule(target(fired), 5);
    wheel.clear();
    jest.advanceTimersByTime(100);
    expect(fired).toEqual([]);
    expect(wheel.size).toBe(0);
  });
});
