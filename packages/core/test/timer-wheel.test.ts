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

  it('keeps one entry per target, at its earliest deadline; the target re-schedules the later one', () => {
    let now = 0;
    const wheel = new TimerWheel(10, () => now);
    const fired: number[] = [];
    const entry = target(fired);
    wheel.schedule(entry, 500);
    wheel.schedule(entry, 30);
    wheel.schedule(entry, 800);
    expect(wheel.size).toBe(1);
    now = 1000;
    jest.advanceTimersByTime(1000);
    expect(fired).toEqual([1000]);
    expect(wheel.size).toBe(0);
  });

  it('cancel() removes a target at once and stops the Node timer when none is left', () => {
    let now = 0;
    const wheel = new TimerWheel(10, () => now);
    const fired: number[] = [];
    const first = target(fired);
    const second = { onTimer: () => fired.push(-1) };
    wheel.schedule(first, 50);
    wheel.schedule(second, 60_000);
    wheel.cancel(second);
    expect(wheel.size).toBe(1);
    wheel.cancel(second); // not scheduled: nothing happens
    wheel.cancel(target(fired));
    expect(wheel.size).toBe(1);
    wheel.cancel(first);
    expect(wheel.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
    now = 70_000;
    jest.advanceTimersByTime(70_000);
    expect(fired).toEqual([]);
    // Scheduling again after the wheel stopped works as from new.
    wheel.schedule(first, 70_020);
    now = 70_030;
    jest.advanceTimersByTime(30);
    expect(fired).toEqual([70_030]);
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['1e300', 1e300],
    ['2^53', 2 ** 53],
  ])(
    'never throws for a %s deadline: the target is visited at the horizon, the others on time',
    (_name, deadline) => {
      let now = 0;
      const wheel = new TimerWheel(10, () => now);
      const fired: string[] = [];
      const odd = { onTimer: () => fired.push('odd') };
      expect(() => wheel.schedule(odd, deadline)).not.toThrow();
      wheel.schedule({ onTimer: () => fired.push('on time') }, 25);
      expect(wheel.size).toBe(2);
      now = 30;
      jest.advanceTimersByTime(30);
      expect(fired).toEqual(['on time']);
      // The horizon is 2^32 ms ahead: beyond any valid timeout (at most 2^31 - 1 ms).
      now = 2 ** 32 - 10;
      jest.advanceTimersByTime(10);
      expect(fired).toEqual(['on time']);
      now = 2 ** 32 + 10;
      jest.advanceTimersByTime(10);
      expect(fired).toEqual(['on time', 'odd']);
      expect(wheel.size).toBe(0);
    },
  );

  it('fires a -Infinity or past deadline at the next tick', () => {
    let now = 1000;
    const wheel = new TimerWheel(10, () => now);
    const fired: number[] = [];
    wheel.schedule(target(fired), Number.NEGATIVE_INFINITY);
    wheel.schedule(target(fired), 5);
    now = 1010;
    jest.advanceTimersByTime(10);
    expect(fired).toEqual([1010, 1010]);
  });

  it('a target that throws does not stop the others in its slot or the later ones', () => {
    let now = 0;
    const wheel = new TimerWheel(10, () => now);
    const fired: string[] = [];
    wheel.schedule(
      {
        onTimer: () => {
          throw new Error("an 'error' listener threw");
        },
      },
      20,
    );
    wheel.schedule({ onTimer: () => fired.push('same slot') }, 20);
    wheel.schedule({ onTimer: () => fired.push('later') }, 100);
    now = 20;
    expect(() => jest.advanceTimersByTime(20)).toThrow("an 'error' listener threw");
    expect(fired).toEqual(['same slot']);
    now = 100;
    jest.advanceTimersByTime(80);
    expect(fired).toEqual(['same slot', 'later']);
  });

  it('a target that re-schedules itself from onTimer leaves a single Node timer', () => {
    let now = 0;
    const wheel = new TimerWheel(10, () => now);
    let calls = 0;
    const repeating: TimerTarget = {
      onTimer: (at) => {
        calls++;
        wheel.schedule(repeating, at + 10);
      },
    };
    wheel.schedule(repeating, 10);
    for (let step = 1; step <= 5; step++) {
      now = step * 10;
      jest.advanceTimersByTime(10);
    }
    expect(calls).toBe(5);
    expect(jest.getTimerCount()).toBe(1);
  });
});
