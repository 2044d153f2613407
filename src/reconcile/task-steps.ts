import type { TaskRecord } from '../drivers/types.js';
import type { VerbName } from './verbs.js';

/** Operator actions on a preset (or one of its VMs) that run as tasks besides the verbs. */
export type PresetAction = 'manage' | 'pause' | 'resume' | 'terminate';
export const PRESET_ACTIONS: readonly PresetAction[] = ['manage', 'pause', 'resume', 'terminate'];
/** What a task does: a verb on a VM, an operator action, or a receiver's answer to a hook (docs/hooks.md). */
export type TaskAction = VerbName | PresetAction | 'hook';

/**
 * The steps of a verb after its `check` (the VM is the preset's, the transition legal; its decision is
 * recorded in the task): the cloud operation if any (`stop`, `start`, `reboot`, `update`), `wait stopped`
 * after a stop (the state a quiesce or scrub promises), then `record` (the lifecycle and event saved under
 * the lease).
 */
export function taskSteps(op: string | null): string[] {
  if (op === null) return ['check', 'record'];
  return ['check', op, ...(op === 'stop' ? ['wait stopped'] : []), 'record'];
}

/**
 * Every step of a task, each idempotent. Pure: follows from the action and, for a verb, the decision its
 * `check` recorded (until then the verb's steps are unknown and only `check` is listed).
 */
export function plannedSteps(task: Pick<TaskRecord, 'verb' | 'steps' | 'data'>): string[] {
  switch (task.verb) {
    case 'pause':
    case 'resume':
      return ['record'];
    case 'manage':
      return ['manage'];
    case 'hook':
      return ['record', 'manage'];
    case 'terminate':
      return ['check', 'terminate', 'record'];
    default: {
      if (!stepEnded(task, 'check')) return ['check'];
      const op = task.data?.op;
      return taskSteps(typeof op === 'string' ? op : null);
    }
  }
}

/** True when the step ended (done or skipped) in an earlier run or this one. */
export function stepEnded(task: Pick<TaskRecord, 'steps'>, name: string): boolean {
  return task.steps.some((s) => s.name === name && s.state !== 'started');
}

/** True when a step was started and did not end: an executor died or lost its lease in it. */
export function stepInterrupted(task: Pick<TaskRecord, 'steps'>, name: string): boolean {
  return !stepEnded(task, name) && task.steps.some((s) => s.name === name && s.state === 'started');
}

/** The next step to run, or null when every step ended. */
export function nextStep(task: Pick<TaskRecord, 'verb' | 'steps' | 'data'>): string | null {
  return plannedSteps(task).find((s) => !stepEnded(task, s)) ?? null;
}

/** How many times a task may be taken up before it ends failed (`runtime_task_1001`). */
export const MAX_TASK_ATTEMPTS = 5;
