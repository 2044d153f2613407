import { randomUUID } from 'node:crypto';
import type { TaskRecord, TaskState, TaskTraceContext } from '../drivers/types.js';
import type { TaskAction } from '../reconcile/task-steps.js';

export type { TaskState };

/** A verb requested on a VM, tracked from request to outcome in the runtime store (docs/tasks.md). */
export type Task = TaskRecord;

/** A new queued task, as submitted to the runtime store. */
export function newTask(
  fields: {
    preset: string;
    vm?: string | undefined;
    verb: TaskAction;
    by: string;
    idempotencyKey?: string | undefined;
    trace?: TaskTraceContext | undefined;
  },
  now: number,
): Task {
  const { idempotencyKey, vm, trace, ...rest } = fields;
  return {
    id: randomUUID(),
    ...rest,
    ...(vm !== undefined ? { vm } : {}),
    state: 'queued',
    steps: [],
    createdAt: new Date(now).toISOString(),
    attempts: 0,
    revision: 0,
    ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    ...(trace !== undefined ? { trace } : {}),
  };
}
