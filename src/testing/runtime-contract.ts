import { describe, expect, it } from 'vitest';
import type { Lease, RuntimeStore, TaskRecord, TaskStore } from '../drivers/types.js';
import { lockContract } from './lock-contract.js';

export interface RuntimeContractSubject {
  /** Two instances (different owners) sharing one backend. */
  a: RuntimeStore;
  b: RuntimeStore;
  close?: () => Promise<void>;
}

export interface RuntimeContractOptions {
  /** TTL used by the expiry tests: short, but long enough for one round trip of the store. */
  ttlMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What every runtime store must guarantee: one holder per lease key, expiry, strictly increasing fencing
 * tokens, and state saved only by the current holder. Run by each runtime driver against its real server.
 */
export function runtimeContract(
  name: string,
  make: () => Promise<RuntimeContractSubject>,
  o: RuntimeContractOptions,
): void {
  const key = () => `contract/${process.pid}/${Math.random().toString(36).slice(2)}`;
  const run = async (fn: (s: RuntimeContractSubject) => Promise<void>) => {
    const s = await make();
    try {
      await fn(s);
    } finally {
      await s.close?.();
    }
  };

  const c: Ctx = { run, key, o };
  describe(`runtime contract: ${name}`, () => {
    leaseCases(c);
    stateCases(c);
    lockContract(run, key, o.ttlMs);
    describe('task records', () => {
      taskListCases(c);
      taskWriteCases(c);
      taskCancelCases(c);
      taskPurgeCases(c);
    });
  });
}

type Run = (fn: (s: RuntimeContractSubject) => Promise<void>) => Promise<void>;
interface Ctx {
  run: Run;
  key: () => string;
  o: RuntimeContractOptions;
}

function leaseCases({ run, key, o }: Ctx): void {
  it('gives a lease to one instance at a time', () =>
    run(async ({ a, b }) => {
      const k = key();
      const lease = await a.acquire(k, 60_000);
      expect(lease).toMatchObject({ key: k });
      expect(lease!.token).toBeGreaterThan(0);
      expect(await b.acquire(k, 60_000)).toBeNull();
      expect(await a.acquire(k, 60_000)).toBeNull();
    }));

  it('frees a released lease, with a higher token for the next holder', () =>
    run(async ({ a, b }) => {
      const k = key();
      const first = (await a.acquire(k, 60_000))!;
      await a.release(first);
      const second = await b.acquire(k, 60_000);
      expect(second).not.toBeNull();
      expect(second!.token).toBeGreaterThan(first.token);
      expect(second!.takenOver).toBe(false);
    }));

  it('lets an expired lease be taken over, and then refuses the old holder', () =>
    run(async ({ a, b }) => {
      const k = key();
      const old = (await a.acquire(k, o.ttlMs))!;
      await a.save(k, { by: 'a' }, old);
      await sleep(o.ttlMs * 1.5);
      const taken = (await b.acquire(k, 60_000))!;
      expect(taken).not.toBeNull();
      expect(taken.takenOver).toBe(true);
      expect(taken.token).toBeGreaterThan(old.token);
      expect(await a.renew(old, 60_000)).toBeNull();
      await expect(a.save(k, { by: 'stale a' }, old)).rejects.toMatchObject({ code: 'runtime_save_0001' });
      await a.release(old); // must not free b's lease
      expect(await a.acquire(k, 60_000)).toBeNull();
      expect(await b.load(k)).toEqual({ by: 'a' });
    }));

  it('keeps a renewed lease past its first expiry', () =>
    run(async ({ a, b }) => {
      const k = key();
      let lease: Lease | null = (await a.acquire(k, o.ttlMs))!;
      for (let i = 0; i < 3; i++) {
        await sleep(o.ttlMs / 2);
        lease = await a.renew(lease!, o.ttlMs);
        expect(lease).not.toBeNull();
      }
      expect(await b.acquire(k, o.ttlMs)).toBeNull();
    }));
}

function stateCases({ run, key }: Ctx): void {
  it('saves and loads plain JSON for the lease holder only', () =>
    run(async ({ a, b }) => {
      const k = key();
      expect(await a.load(k)).toBeNull();
      const lease = (await a.acquire(k, 60_000))!;
      const state = {
        version: 1,
        n: 3,
        list: [1, 'two', null],
        nested: { ok: true },
        at: '2026-11-21T12:00:00.000Z',
      };
      await a.save(k, state, lease);
      expect(await b.load(k)).toEqual(state);
      await a.release(lease);
      await expect(a.save(k, { after: 'release' }, lease)).rejects.toMatchObject({
        code: 'runtime_save_0001',
      });
      expect(await a.load(k)).toEqual(state);
    }));

  it('hands one lease to exactly one of many racing acquirers', () =>
    run(async ({ a, b }) => {
      const k = key();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).acquire(k, 60_000)),
      );
      expect(results.filter((r) => r !== null)).toHaveLength(1);
    }));

  it('issues strictly increasing tokens across holders', () =>
    run(async ({ a, b }) => {
      const k = key();
      const tokens: number[] = [];
      for (let i = 0; i < 6; i++) {
        const store = i % 2 ? a : b;
        const lease = (await store.acquire(k, 60_000))!;
        tokens.push(lease.token);
        await store.release(lease);
      }
      expect([...tokens].sort((x, y) => x - y)).toEqual(tokens);
      expect(new Set(tokens).size).toBe(tokens.length);
    }));
}

const tasksOf = (s: RuntimeStore): TaskStore => {
  expect(s.tasks).toBeDefined();
  return s.tasks!;
};
const newTask = (preset: string, fields: Partial<TaskRecord> = {}): TaskRecord => ({
  id: `t-${Math.random().toString(36).slice(2)}`,
  preset,
  vm: 'vm-1',
  verb: 'scrub',
  by: 'ops',
  state: 'queued',
  steps: [],
  createdAt: new Date().toISOString(),
  attempts: 0,
  revision: 0,
  ...fields,
});

function taskListCases({ run, key }: Ctx): void {
  it('stores a task that every instance lists and shows, newest first', () =>
    run(async ({ a, b }) => {
      const p = key().replaceAll('/', '-');
      // The submitting request's trace context travels with the record (the executor links to it).
      const trace = {
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        tracestate: 'a=1',
      };
      const first = await tasksOf(a).submitTask(newTask(p, { by: 'alice', trace }));
      expect(first.created).toBe(true);
      expect((await tasksOf(b).getTask(first.task.id))?.trace).toEqual(trace);
      const second = await tasksOf(b).submitTask(newTask(p, { verb: 'restart' }));
      const other = await tasksOf(b).submitTask(newTask(`${p}-other`));
      expect(await tasksOf(b).getTask(first.task.id)).toEqual(first.task);
      expect(first.task).toMatchObject({ preset: p, by: 'alice', state: 'queued', revision: 0 });
      expect((await tasksOf(a).listTasks({ preset: p })).map((t) => t.id)).toEqual([
        second.task.id,
        first.task.id,
      ]);
      expect((await tasksOf(a).listTasks({ preset: p, limit: 1 })).map((t) => t.id)).toEqual([
        second.task.id,
      ]);
      const all = (await tasksOf(a).listTasks()).map((t) => t.id);
      expect(all).toEqual(expect.arrayContaining([first.task.id, second.task.id, other.task.id]));
      expect(await tasksOf(a).getTask('no-such-task')).toBeNull();
    }));

  it('returns the existing task for an idempotency key used again, from any instance', () =>
    run(async ({ a, b }) => {
      const p = key().replaceAll('/', '-');
      const idem = `k-${Math.random().toString(36).slice(2)}`;
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          tasksOf(i % 2 ? a : b).submitTask(newTask(p, { idempotencyKey: idem })),
        ),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.task.id)).size).toBe(1);
      expect(await tasksOf(a).listTasks({ preset: p })).toHaveLength(1);
      expect((await tasksOf(b).getTaskByKey(idem))?.id).toBe(results[0]!.task.id);
      expect(await tasksOf(b).getTaskByKey(`${idem}-unused`)).toBeNull();
    }));
}

function taskWriteCases({ run, key, o }: Ctx): void {
  it('writes a task only under the current lease and the revision read', () =>
    run(async ({ a, b }) => {
      const p = key().replaceAll('/', '-');
      const k = `preset/${p}`;
      const { task } = await tasksOf(a).submitTask(newTask(p));
      const lease = (await a.acquire(k, o.ttlMs))!;
      const running = await tasksOf(a).updateTask({ ...task, state: 'running', attempts: 1 }, lease);
      expect(running).toMatchObject({ state: 'running', revision: 1 });
      expect(await tasksOf(b).getTask(task.id)).toEqual(running);
      expect(await tasksOf(b).listTasks({ preset: p, active: true })).toHaveLength(1);
      // A write from the revision before is refused: someone wrote in between.
      await expect(tasksOf(a).updateTask({ ...task, state: 'done' }, lease)).rejects.toMatchObject({
        code: 'runtime_task_0001',
      });
      await sleep(o.ttlMs * 1.5);
      const taken = (await b.acquire(k, 60_000))!;
      expect(taken.token).toBeGreaterThan(lease.token);
      // The expired holder's write is refused, the new holder's taken.
      await expect(tasksOf(a).updateTask({ ...running, state: 'done' }, lease)).rejects.toMatchObject({
        code: 'runtime_task_0001',
      });
      const done = await tasksOf(b).updateTask(
        { ...running, state: 'done', finishedAt: new Date().toISOString() },
        taken,
      );
      expect(done).toMatchObject({ state: 'done', revision: 2 });
      expect(await tasksOf(a).listTasks({ preset: p, active: true })).toEqual([]);
      await b.release(taken);
      await expect(tasksOf(b).updateTask(done, taken)).rejects.toMatchObject({
        code: 'runtime_task_0001',
      });
    }));
}

function taskCancelCases({ run, key }: Ctx): void {
  it('cancels a queued or budget-waiting task only, and then refuses the executor that read it', () =>
    run(async ({ a, b }) => {
      const p = key().replaceAll('/', '-');
      const { task } = await tasksOf(a).submitTask(newTask(p));
      const lease = (await a.acquire(`preset/${p}`, 60_000))!;
      const cancelled = await tasksOf(b).cancelTask(task.id, 'bob');
      expect(cancelled).toMatchObject({ state: 'cancelled' });
      expect(cancelled.finishedAt).toBeDefined();
      await expect(tasksOf(a).updateTask({ ...task, state: 'running' }, lease)).rejects.toMatchObject({
        code: 'runtime_task_0001',
      });
      await expect(tasksOf(a).cancelTask(task.id, 'bob')).rejects.toMatchObject({
        code: 'api_task_0002',
      });
      await expect(tasksOf(a).cancelTask('no-such-task', 'bob')).rejects.toMatchObject({
        code: 'api_task_0001',
      });
      const second = (await tasksOf(a).submitTask(newTask(p))).task;
      await tasksOf(a).updateTask({ ...second, state: 'running' }, lease);
      await expect(tasksOf(b).cancelTask(second.id, 'bob')).rejects.toMatchObject({
        code: 'api_task_0002',
      });
      expect(await tasksOf(a).listTasks({ preset: p, active: true })).toHaveLength(1);
      // Taken up but waiting for the disruption budget: nothing of it reached the cloud yet.
      const third = (await tasksOf(a).submitTask(newTask(p))).task;
      const waiting = await tasksOf(a).updateTask(
        { ...third, state: 'running', data: { waiting: 'no room in the budget' } },
        lease,
      );
      expect(await tasksOf(b).cancelTask(third.id, 'bob')).toMatchObject({ state: 'cancelled' });
      await expect(tasksOf(a).updateTask({ ...waiting, data: {} }, lease)).rejects.toMatchObject({
        code: 'runtime_task_0001',
      });
      // Waiting for an infrastructure lock: cancellable until its step is in flight.
      const at = new Date().toISOString();
      const step = (state: 'started' | 'done') => ({
        name: 'reboot',
        state,
        at,
        instance: 'a',
        token: 1,
      });
      const fourth = (await tasksOf(a).submitTask(newTask(p))).task;
      const locked = await tasksOf(a).updateTask(
        { ...fourth, state: 'running', data: { lockWait: 'host busy' }, steps: [step('started')] },
        lease,
      );
      await expect(tasksOf(b).cancelTask(fourth.id, 'bob')).rejects.toMatchObject({
        code: 'api_task_0002',
      });
      await tasksOf(a).updateTask({ ...locked, steps: [step('started'), step('done')] }, lease);
      expect(await tasksOf(b).cancelTask(fourth.id, 'bob')).toMatchObject({ state: 'cancelled' });
    }));
}

function taskPurgeCases({ run, key }: Ctx): void {
  it('purges the tasks that ended before a time, keeping the others', () =>
    run(async ({ a, b }) => {
      const p = key().replaceAll('/', '-');
      const old = new Date(Date.now() - 3_600_000).toISOString();
      const lease = (await a.acquire(`preset/${p}`, 60_000))!;
      const idem = `k-${Math.random().toString(36).slice(2)}`;
      const ended = (await tasksOf(a).submitTask(newTask(p, { idempotencyKey: idem }))).task;
      await tasksOf(a).updateTask({ ...ended, state: 'done', finishedAt: old }, lease);
      const recent = (await tasksOf(a).submitTask(newTask(p))).task;
      await tasksOf(a).updateTask(
        { ...recent, state: 'failed', finishedAt: new Date().toISOString() },
        lease,
      );
      const queued = (await tasksOf(a).submitTask(newTask(p))).task;
      expect(await tasksOf(b).purgeTasks(Date.now() - 60_000)).toBeGreaterThanOrEqual(1);
      expect((await tasksOf(a).listTasks({ preset: p })).map((t) => t.id).sort()).toEqual(
        [recent.id, queued.id].sort(),
      );
      expect(await tasksOf(a).getTask(ended.id)).toBeNull();
      // Its idempotency key is free again.
      expect((await tasksOf(b).submitTask(newTask(p, { idempotencyKey: idem }))).created).toBe(true);
    }));
}
