import type pg from 'pg';
import { ShepherdError } from '../../../errors/shepherd-error.js';
import type { Lease, TaskFilter, TaskRecord, TaskStore } from '../../types.js';
import { cancellable, cancelled, notCancellable, staleTask } from '../memory-tasks.js';
import type { PostgresNames } from './migrations.js';

type Query = <R extends pg.QueryResultRow = pg.QueryResultRow>(
  sql: string,
  params: unknown[],
) => Promise<R[]>;

/**
 * Task records in one table. Every write is one statement: a submission inserts or finds the idempotency
 * key's row; an executor's write compares the revision and checks the preset lease (the same holder check
 * as `save`, share-locking the lease row so a takeover waits for it) in the statement that writes.
 */
export class PostgresTaskStore implements TaskStore {
  constructor(
    private readonly names: PostgresNames,
    private readonly query: Query,
  ) {}

  async submitTask(task: TaskRecord): Promise<{ task: TaskRecord; created: boolean }> {
    const stored = { ...task, revision: 0 };
    const inserted = await this.query<{ record: TaskRecord }>(
      `INSERT INTO ${this.names.tasks} (id, preset, state, idempotency_key, revision, record, finished_at)
       VALUES ($1, $2, $3, $4, 0, $5::jsonb, NULL)
       ON CONFLICT (idempotency_key) DO NOTHING
       RETURNING record`,
      [stored.id, stored.preset, stored.state, stored.idempotencyKey ?? null, JSON.stringify(stored)],
    );
    if (inserted[0]) return { task: inserted[0].record, created: true };
    // The key is taken: the task that has it (its insert committed before ours conflicted).
    const existing = await this.query<{ record: TaskRecord }>(
      `SELECT record FROM ${this.names.tasks} WHERE idempotency_key = $1`,
      [stored.idempotencyKey],
    );
    if (!existing[0])
      throw new ShepherdError('postgres_call_2001', `task with key ${stored.idempotencyKey} vanished`);
    return { task: existing[0].record, created: false };
  }

  async getTask(id: string): Promise<TaskRecord | null> {
    const rows = await this.query<{ record: TaskRecord }>(
      `SELECT record FROM ${this.names.tasks} WHERE id = $1`,
      [id],
    );
    return rows[0]?.record ?? null;
  }

  async getTaskByKey(key: string): Promise<TaskRecord | null> {
    const rows = await this.query<{ record: TaskRecord }>(
      `SELECT record FROM ${this.names.tasks} WHERE idempotency_key = $1`,
      [key],
    );
    return rows[0]?.record ?? null;
  }

  async listTasks(filter: TaskFilter = {}): Promise<TaskRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.preset !== undefined) {
      params.push(filter.preset);
      where.push(`preset = $${params.length}`);
    }
    if (filter.active) where.push(`state IN ('queued', 'running')`);
    let sql = `SELECT record FROM ${this.names.tasks}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC`;
    if (filter.limit !== undefined) {
      params.push(filter.limit);
      sql += ` LIMIT $${params.length}`;
    }
    return (await this.query<{ record: TaskRecord }>(sql, params)).map((r) => r.record);
  }

  async updateTask(task: TaskRecord, lease: Lease): Promise<TaskRecord> {
    const next = { ...task, revision: task.revision + 1 };
    const rows = await this.query(
      `WITH holder AS (
         SELECT 1 FROM ${this.names.leases}
         WHERE key = $1 AND token = $2 AND NOT released AND expires_at > now()
         FOR SHARE
       )
       UPDATE ${this.names.tasks}
         SET record = $5::jsonb, state = $6, revision = $4 + 1, finished_at = $7::timestamptz
       WHERE id = $3 AND revision = $4 AND EXISTS (SELECT 1 FROM holder)
       RETURNING 1`,
      [
        lease.key,
        lease.token,
        task.id,
        task.revision,
        JSON.stringify(next),
        next.state,
        next.finishedAt ?? null,
      ],
    );
    if (rows.length === 0) throw staleTask(task, lease);
    return next;
  }

  async cancelTask(id: string, by: string): Promise<TaskRecord> {
    for (;;) {
      const current = await this.getTask(id);
      if (!current) throw new ShepherdError('api_task_0001', id);
      if (!cancellable(current)) throw notCancellable(current);
      const next = cancelled(current, by, new Date().toISOString());
      const rows = await this.query(
        `UPDATE ${this.names.tasks}
           SET record = $3::jsonb, state = 'cancelled', revision = $2 + 1, finished_at = $4::timestamptz
         WHERE id = $1 AND revision = $2 AND state IN ('queued', 'running')
         RETURNING 1`,
        [id, current.revision, JSON.stringify(next), next.finishedAt],
      );
      if (rows.length > 0) return next;
      // Changed since read (an executor took it up): read again and answer from what it is now.
    }
  }

  async purgeTasks(before: number): Promise<number> {
    const rows = await this.query(
      `DELETE FROM ${this.names.tasks}
       WHERE finished_at IS NOT NULL AND finished_at < to_timestamp($1 / 1000.0) RETURNING 1`,
      [before],
    );
    return rows.length;
  }
}
