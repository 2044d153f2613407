import type { Stat, Transaction } from 'node-zookeeper-client';
import { ShepherdError } from '../../../errors/shepherd-error.js';
import { isActiveTask, type Lease, type TaskFilter, type TaskRecord, type TaskStore } from '../../types.js';
import { cancellable, cancelled, notCancellable, staleTask } from '../memory-tasks.js';
import { CreateMode, Exception, type ZkConnection, zkCode } from './zk-client.js';
import { zkWrap } from './zk-wrap.js';

export type MultiResult = { ok: true } | { ok: false; failedAt: number; code: number };

/** What the task store borrows from ZookeeperRuntime: its session, multi-ops and lock nodes. */
export interface ZkTaskAccess {
  zk: ZkConnection;
  /** Working path without the trailing slash ('' for the root). */
  base: string;
  multi(build: (t: Transaction) => void): Promise<MultiResult>;
  ensureParent(path: string): Promise<void>;
  forgetParent(path: string): void;
  /** The lock node of a lease this instance holds, or undefined when it holds it no more. */
  lockOf(lease: Lease): string | undefined;
}

interface Read {
  task: TaskRecord;
  version: number;
  /** Creation order (the node's czxid). */
  order: bigint;
}

/**
 * Task records as nodes: `tasks/<id>` holds the record, `task-queue/<id>` marks an active task (so an
 * executor lists the few active ones, not every kept task), `task-keys/<key>` holds the id that has an
 * idempotency key. Each change is one multi-op: a submission creates the three at once (a used key fails
 * it), an executor's write checks its lock node (the fence, as `save` does) and sets the record with the
 * version read (compare-and-set), removing the queue node when the task ends.
 */
export class ZookeeperTaskStore implements TaskStore {
  constructor(private readonly a: ZkTaskAccess) {}

  private path(kind: 'tasks' | 'task-queue' | 'task-keys', name?: string): string {
    return name === undefined
      ? `${this.a.base}/${kind}`
      : `${this.a.base}/${kind}/${encodeURIComponent(name)}`;
  }

  async submitTask(task: TaskRecord): Promise<{ task: TaskRecord; created: boolean }> {
    return this.wrap('submit task', async () => {
      const stored = { ...task, revision: 0 };
      const key = stored.idempotencyKey;
      for (let attempt = 0; attempt < 3; attempt++) {
        const result = await this.a.multi((t) => {
          if (key !== undefined)
            t.create(
              this.path('task-keys', key),
              Buffer.from(stored.id),
              this.a.zk.acls,
              CreateMode.PERSISTENT,
            );
          t.create(this.path('tasks', stored.id), json(stored), this.a.zk.acls, CreateMode.PERSISTENT);
          t.create(
            this.path('task-queue', stored.id),
            Buffer.from(stored.preset),
            this.a.zk.acls,
            CreateMode.PERSISTENT,
          );
        });
        if (result.ok) return { task: stored, created: true };
        if (result.code === Exception.NODE_EXISTS && key !== undefined && result.failedAt === 0) {
          const id = await this.readKey(key);
          const existing = id === null ? null : await this.read(id);
          if (existing) return { task: existing.task, created: false };
          continue; // purged meanwhile: try again
        }
        if (result.code !== Exception.NO_NODE)
          throw new Error(`submit failed with ZooKeeper code ${result.code}`);
        for (const kind of ['tasks', 'task-queue', 'task-keys'] as const) {
          this.a.forgetParent(this.path(kind));
          await this.a.ensureParent(this.path(kind));
        }
      }
      throw new ShepherdError('zookeeper_call_2001', `task ${stored.id}: not stored after 3 attempts`);
    });
  }

  async getTask(id: string): Promise<TaskRecord | null> {
    return this.wrap('read task', async () => (await this.read(id))?.task ?? null);
  }

  async getTaskByKey(key: string): Promise<TaskRecord | null> {
    return this.wrap('read task key', async () => {
      const id = await this.readKey(key);
      return id === null ? null : ((await this.read(id))?.task ?? null);
    });
  }

  async listTasks(filter: TaskFilter = {}): Promise<TaskRecord[]> {
    return this.wrap('list tasks', async () => {
      const ids = await this.children(filter.active ? 'task-queue' : 'tasks');
      const reads = (await Promise.all(ids.map((id) => this.read(decodeURIComponent(id))))).filter(
        (r): r is Read => r !== null,
      );
      const out = reads
        .filter((r) => filter.preset === undefined || r.task.preset === filter.preset)
        .filter((r) => !filter.active || isActiveTask(r.task))
        .sort((x, y) => (x.order < y.order ? 1 : x.order > y.order ? -1 : 0))
        .map((r) => r.task);
      return filter.limit === undefined ? out : out.slice(0, filter.limit);
    });
  }

  async updateTask(task: TaskRecord, lease: Lease): Promise<TaskRecord> {
    return this.wrap('write task', async () => {
      const lock = this.a.lockOf(lease);
      const current = lock ? await this.read(task.id) : null;
      if (!lock || !current || current.task.revision !== task.revision) throw staleTask(task, lease);
      const next = { ...task, revision: task.revision + 1 };
      const result = await this.a.multi((t) => {
        t.check(lock, -1);
        t.setData(this.path('tasks', task.id), json(next), current.version);
        if (isActiveTask(current.task) && !isActiveTask(next)) t.remove(this.path('task-queue', task.id), -1);
      });
      if (!result.ok) throw staleTask(task, lease);
      return next;
    });
  }

  async cancelTask(id: string, by: string): Promise<TaskRecord> {
    return this.wrap('cancel task', async () => {
      for (;;) {
        const current = await this.read(id);
        if (!current) throw new ShepherdError('api_task_0001', id);
        if (!cancellable(current.task)) throw notCancellable(current.task);
        const next = cancelled(current.task, by, new Date().toISOString());
        const result = await this.a.multi((t) => {
          t.setData(this.path('tasks', id), json(next), current.version);
          t.remove(this.path('task-queue', id), -1);
        });
        if (result.ok) return next;
        // Changed since read (an executor took it up): answer from what it is now.
      }
    });
  }

  async purgeTasks(before: number): Promise<number> {
    return this.wrap('purge tasks', async () => {
      let n = 0;
      for (const name of await this.children('tasks')) {
        const r = await this.read(decodeURIComponent(name));
        if (!r || isActiveTask(r.task) || !r.task.finishedAt || Date.parse(r.task.finishedAt) >= before)
          continue;
        const key = r.task.idempotencyKey;
        const result = await this.a.multi((t) => {
          t.remove(this.path('tasks', r.task.id), r.version);
          if (key !== undefined) t.remove(this.path('task-keys', key), -1);
        });
        if (result.ok) n++;
      }
      return n;
    });
  }

  private async read(id: string): Promise<Read | null> {
    try {
      const [data, stat] = await this.a.zk.call<[Buffer, Stat]>('read task', (c, done) =>
        c.getData(this.path('tasks', id), (err, d, s) => done(err, [d, s])),
      );
      return {
        task: JSON.parse(data.toString()) as TaskRecord,
        version: stat.version,
        order: (stat.czxid as unknown as Buffer).readBigInt64BE(0),
      };
    } catch (err) {
      if (zkCode(err) === Exception.NO_NODE) return null;
      throw err;
    }
  }

  private async readKey(key: string): Promise<string | null> {
    try {
      const data = await this.a.zk.call<Buffer>('read task key', (c, done) =>
        c.getData(this.path('task-keys', key), (err, d) => done(err, d)),
      );
      return data.toString();
    } catch (err) {
      if (zkCode(err) === Exception.NO_NODE) return null;
      throw err;
    }
  }

  private async children(kind: 'tasks' | 'task-queue'): Promise<string[]> {
    try {
      return await this.a.zk.call<string[]>('list tasks', (c, done) => c.getChildren(this.path(kind), done));
    } catch (err) {
      if (zkCode(err) === Exception.NO_NODE) return [];
      throw err;
    }
  }

  private wrap<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return zkWrap(what, fn);
  }
}

const json = (t: TaskRecord) => Buffer.from(JSON.stringify(t));
