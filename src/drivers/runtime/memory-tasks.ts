import { ShepherdError } from '../../errors/shepherd-error.js';
import { isActiveTask, type Lease, type TaskFilter, type TaskRecord, type TaskStore } from '../types.js';

/**
 * Task records in this process's memory, with the same compare-and-set and fencing as the shared stores.
 * `holds(lease)` says whether the lease is still the current one of its key (InMemoryRuntime's leases);
 * without it (a plugin store that keeps no tasks) every write is taken as fenced.
 */
export class MemoryTaskStore implements TaskStore {
  /** In submission order. */
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly keys = new Map<string, string>();

  constructor(private readonly holds: (lease: Lease) => boolean = () => true) {}

  async submitTask(task: TaskRecord): Promise<{ task: TaskRecord; created: boolean }> {
    const key = task.idempotencyKey;
    const existing = key === undefined ? undefined : this.tasks.get(this.keys.get(key) ?? '');
    if (existing) return { task: copy(existing), created: false };
    const stored = { ...copy(task), revision: 0 };
    this.tasks.set(stored.id, stored);
    if (key !== undefined) this.keys.set(key, stored.id);
    return { task: copy(stored), created: true };
  }

  async getTask(id: string): Promise<TaskRecord | null> {
    const t = this.tasks.get(id);
    return t ? copy(t) : null;
  }

  async getTaskByKey(key: string): Promise<TaskRecord | null> {
    return this.getTask(this.keys.get(key) ?? '');
  }

  async listTasks(filter: TaskFilter = {}): Promise<TaskRecord[]> {
    const out: TaskRecord[] = [];
    for (const t of [...this.tasks.values()].reverse()) {
      if (filter.preset !== undefined && t.preset !== filter.preset) continue;
      if (filter.active && !isActiveTask(t)) continue;
      out.push(copy(t));
      if (filter.limit !== undefined && out.length >= filter.limit) break;
    }
    return out;
  }

  async updateTask(task: TaskRecord, lease: Lease): Promise<TaskRecord> {
    const current = this.tasks.get(task.id);
    if (!current || current.revision !== task.revision || !this.holds(lease)) throw staleTask(task, lease);
    const next = { ...copy(task), revision: task.revision + 1 };
    this.tasks.set(task.id, next);
    return copy(next);
  }

  async cancelTask(id: string, by: string): Promise<TaskRecord> {
    const current = this.tasks.get(id);
    if (!current) throw new ShepherdError('api_task_0001', id);
    if (!cancellable(current)) throw notCancellable(current);
    const next = cancelled(current, by, new Date().toISOString());
    this.tasks.set(id, next);
    return copy(next);
  }

  async purgeTasks(before: number): Promise<number> {
    let n = 0;
    for (const [id, t] of this.tasks) {
      if (isActiveTask(t) || !t.finishedAt || Date.parse(t.finishedAt) >= before) continue;
      this.tasks.delete(id);
      if (t.idempotencyKey !== undefined) this.keys.delete(t.idempotencyKey);
      n++;
    }
    return n;
  }
}

const copy = (t: TaskRecord): TaskRecord => structuredClone(t);

/** The refusal of a task write whose lease or revision is stale (every store throws this one). */
export function staleTask(task: Pick<TaskRecord, 'id' | 'revision'>, lease: Lease): ShepherdError {
  return new ShepherdError(
    'runtime_task_0001',
    `task ${task.id} (revision ${task.revision}) under token ${lease.token}`,
    { details: { task: task.id, token: lease.token } },
  );
}

/**
 * Whether a task may still be cancelled: queued, or taken up but waiting for room in the disruption budget
 * or for an infrastructure lock, with no step in flight (nothing of it is reaching the cloud that
 * cancelling would strand).
 */
export function cancellable(task: TaskRecord): boolean {
  if (task.state === 'queued') return true;
  const waits = typeof task.data?.waiting === 'string' || typeof task.data?.lockWait === 'string';
  return task.state === 'running' && waits && task.steps.at(-1)?.state !== 'started';
}

export function notCancellable(task: TaskRecord): ShepherdError {
  return new ShepherdError('api_task_0002', `task ${task.id} is ${task.state}`, {
    details: { task: task.id, state: task.state },
  });
}

/** The record of a queued task once cancelled (next revision). */
export function cancelled(task: TaskRecord, by: string, at: string): TaskRecord {
  return {
    ...copy(task),
    state: 'cancelled',
    finishedAt: at,
    error: { code: 'api_task_0002', message: `cancelled by ${by}` },
    revision: task.revision + 1,
  };
}
