import type { TaskRecord } from '../drivers/types.js';

/**
 * A verb as recorded steps, each idempotent: `check` (the VM is the preset's, the transition legal; its
 * decision is recorded in the task), the cloud operation if any (`stop`, `start`, `reboot`, `update`),
 * `wait stopped` after a stop (the state a quiesce or scrub promises), then `record` (the lifecycle and
 * event saved under the lease). Pure: which step comes next follows from the steps recorded so far.
 */
export function taskSteps(op: string | null): string[] {
  if (op === null) return ['check', 'record'];
  return ['check', op, ...(op === 'stop' ? ['wait stopped'] : []), 'record'];
}

/** True when the step ended (done or skipped) in an earlier run or this one. */
export function stepEnded(task: Pick<TaskRecord, 'steps'>, name: string): boolean {
  return task.steps.some((s) => s.name === name && s.state !== 'started');
}

/** True when a step was started and did not end: an executor died or lost its lease in it. */
export function stepInterrupted(task: Pick<TaskRecord, 'steps'>, name: string): boolean {
  return !stepEnded(task, name) && task.steps.some((s) => s.name === name && s.state === 'started');
}

/** The next step to run, or null when every step ended. Until `check` ended the operation is unknown. */
export function nextStep(task: Pick<TaskRecord, 'steps' | 'data'>): string | null {
  if (!stepEnded(task, 'check')) return 'check';
  const op = task.data?.op;
  return taskSteps(typeof op === 'string' ? op : null).find((s) => !stepEnded(task, s)) ?? null;
}

/** How many times a task may be taken up before it ends failed (`runtime_task_1001`). */
export const MAX_TASK_ATTEMPTS = 5;
