import { InflightTable } from '../src/inflight-table';
import { PoolTask } from '../src/pool-task';

function task(id: number): PoolTask {
  return new PoolTask(id, 0, 'default', null, undefined, undefined, 0);
}

describe('InflightTable', () => {
  it('finds a task by slot and id, and nothing for a stale id in a reused slot', () => {
    const table = new InflightTable();
    const a = task(1);
    expect(table.nextSlot()).toBe(0);
    table.add(a);
    expect(a.slot).toBe(0);
    expect(table.get(0, 1)).toBe(a);
    expect(table.delete(a)).toBe(true);
    expect(table.delete(a)).toBe(false);
    const b = task(2);
    table.add(b);
    expect(b.slot).toBe(0);
    expect(table.get(0, 1)).toBeUndefined();
    expect(table.get(0, 2)).toBe(b);
    expect(table.get(5, 2)).toBeUndefined();
  });

  it('counts tasks, reuses freed slots and lists tasks oldest first', () => {
    const table = new InflightTable();
    const tasks = [task(1), task(2), task(3), task(4)];
    for (const t of tasks) table.add(t);
    expect(table.size).toBe(4);
    table.delete(tasks[1]!);
    const late = task(5);
    expect(table.nextSlot()).toBe(tasks[1]!.slot);
    table.add(late);
    expect(late.slot).toBe(tasks[1]!.slot);
    expect(table.values().map((t) => t.id)).toEqual([1, 3, 4, 5]);
    expect(table.size).toBe(4);
  });
});
