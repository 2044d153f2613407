/** Task records of the runtime store (docs/tasks.md): verbs asked of VMs, from request to outcome. */
import type { TraceContext } from '../../observability/task-tracing.js';
import type { CallOptions } from './call-options.js';
import type { Lease } from './lease.js';

export type TaskState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
export const TASK_STATES: readonly TaskState[] = ['queued', 'running', 'done', 'failed', 'cancelled'];
/** A task is active until it is done, failed or cancelled. */
export const isActiveTask = (t: { state: TaskState }) => t.state === 'queued' || t.state === 'running';

/** One step of a task as recorded before it runs (`started`) and after (`done`, `skipped`). */
export interface TaskStep {
  name: string;
  state: 'started' | 'done' | 'skipped';
  /** ISO 8601 UTC. */
  at: string;
  /** The instance that ran it, and the fencing token of the preset lease it ran under. */
  instance: string;
  token: number;
  note?: string;
}

/**
 * A verb asked of a VM, from request to outcome, as every instance sees it. Plain JSON. `revision` is the
 * store's compare-and-set counter: a write carrying an older revision than the stored one is refused.
 */
export interface TaskRecord {
  id: string;
  preset: string;
  /** The VM, for a verb or a terminate; absent for an action on the whole preset. */
  vm?: string;
  /** What it does: a verb (quiesce, restart, scrub, restore, update) or manage, pause, resume, terminate. */
  verb: string;
  /** Who asked (token name, `cli`...). */
  by: string;
  state: TaskState;
  steps: TaskStep[];
  /** What the steps decided and must find again when the task is resumed (e.g. the transition). */
  data?: Record<string, string | number | null>;
  error?: { code: string; message: string; step?: string };
  /** ISO 8601 UTC. */
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  idempotencyKey?: string;
  /** The instance that ran it last, and the fencing token it ran under. */
  executor?: string;
  token?: number;
  /** How many times an executor took it up (a resume after a dead executor is one more). */
  attempts: number;
  revision: number;
  /** The submitting request's W3C trace context, when it was traced: the executor's spans link to it. */
  trace?: TaskTraceContext;
}

/** W3C Trace Context headers (https://www.w3.org/TR/trace-context/), as a request carried them. */
export type TaskTraceContext = TraceContext;

export interface TaskFilter {
  preset?: string;
  /** Only queued and running tasks. */
  active?: boolean;
  /** At most this many, newest first (default: all). */
  limit?: number;
}

/**
 * Task records in the runtime store. Writes by the executor are fenced like `save`: they carry the preset
 * lease, and are refused when its token is stale or the task changed since it was read (cancelled).
 */
export interface TaskStore {
  /**
   * Stores a new task (revision 0). With an `idempotencyKey` already used, stores nothing and returns the
   * task that has it (`created: false`).
   */
  submitTask(task: TaskRecord, options?: CallOptions): Promise<{ task: TaskRecord; created: boolean }>;
  getTask(id: string, options?: CallOptions): Promise<TaskRecord | null>;
  /** The task that has this idempotency key, until it is purged. */
  getTaskByKey(key: string, options?: CallOptions): Promise<TaskRecord | null>;
  /** Newest first. */
  listTasks(filter?: TaskFilter, options?: CallOptions): Promise<TaskRecord[]>;
  /**
   * Writes `task` (whose `revision` is the one read) under the preset lease; returns it with the new
   * revision. `runtime_task_0001` when the lease's token is stale or the task changed meanwhile.
   */
  updateTask(task: TaskRecord, lease: Lease, options?: CallOptions): Promise<TaskRecord>;
  /**
   * Cancels a queued task, or a running one waiting for the disruption budget (`data.waiting`);
   * `api_task_0002` once a step of it runs or it ended; `api_task_0001` when unknown.
   */
  cancelTask(id: string, by: string, options?: CallOptions): Promise<TaskRecord>;
  /** Deletes tasks that ended before `before` (epoch ms); returns how many. */
  purgeTasks(before: number, options?: CallOptions): Promise<number>;
}
