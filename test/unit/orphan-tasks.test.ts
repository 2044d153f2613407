import { describe, expect, it } from 'vitest';
import { OrphanTasks } from '../../src/daemon/orphan-tasks.js';
import type { TaskRecord } from '../../src/drivers/types.js';

const task = (id: string, preset: string, extra: Partial<TaskRecord> = {}) =>
  ({ id, preset, state: 'queued', steps: [], revision: 0, attempts: 0, ...extra }) as unknown as TaskRecord;

const presets = (managed: string[], uncertain = false) => ({
  managed: (name: string) => managed.includes(name),
  uncertain: () => uncertain,
});

describe('OrphanTasks', () => {
  const active = [
    task('t1', 'gone'),
    task('t2', 'web'),
    task('t3', 'gone', { state: 'running', data: { waiting: 'budget' } }),
    task('t4', 'gone', { state: 'running' }),
  ];

  it('names the cancellable tasks of a preset missing for the grace, not before', () => {
    const o = new OrphanTasks(1000);
    expect(o.due(active, presets(['web']), 0)).toEqual([]);
    expect(o.due(active, presets(['web']), 999)).toEqual([]);
    expect(o.due(active, presets(['web']), 1000).map((t) => t.id)).toEqual(['t1', 't3']);
  });

  it('starts the grace again when the preset came back in between', () => {
    const o = new OrphanTasks(1000);
    o.due(active, presets(['web']), 0);
    o.due(active, presets(['web', 'gone']), 500);
    expect(o.due(active, presets(['web']), 1200)).toEqual([]);
    expect(o.due(active, presets(['web']), 2200).map((t) => t.id)).toEqual(['t1', 't3']);
  });

  it('cancels nothing while a preset file or the store cannot be read', () => {
    const o = new OrphanTasks(1000);
    o.due(active, presets(['web'], true), 0);
    expect(o.due(active, presets(['web'], true), 5000)).toEqual([]);
    expect(o.due(active, presets(['web']), 5000)).toEqual([]); // the grace starts once it is certain
  });
});
