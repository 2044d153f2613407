import type { Preset } from '../presets/preset.js';
import type { LeaseKeeper } from './lease-keeper.js';
import type { ManageOutcome } from './manage-outcome.js';
import type { TaskDeps } from './task-deps.js';
import { TaskRun } from './task-run.js';

export type { TaskDeps } from './task-deps.js';

/** What the manage holding the lease does about the preset's tasks once they ran. */
export interface PresetTasksResult {
  /** A `manage` task was taken up: this manage runs whatever the interval. */
  force: boolean;
  /** Ends the `manage` tasks with the manage's outcome; called before the lease is released. */
  after?: (outcome: ManageOutcome) => Promise<void>;
  /** VMs of the preset's tasks still active: a verb's wait in the state without one is stale. */
  activeVms?: ReadonlySet<string>;
}

/** What a manage of a preset with no task (as the cycle's task listing showed) takes from them. */
export const NO_TASKS: PresetTasksResult = Object.freeze({ force: false, activeVms: new Set<string>() });

/**
 * Runs the preset's queued and running tasks, oldest first, under the lease its manage holds: each step
 * is recorded as started before it runs and as done after, every write fenced by the lease, so a task
 * whose executor died is carried on from its last recorded step by the next holder of the lease. Stops at
 * the first task it cannot write (lease lost, store down): the rest wait for the next manage. `manage`
 * tasks are taken up here and ended by the manage that follows (`after`).
 */
export async function runPresetTasks(
  preset: Preset,
  lease: LeaseKeeper,
  deps: TaskDeps,
): Promise<PresetTasksResult> {
  const active = (await deps.tasks.listTasks({ preset: preset.name, active: true })).reverse();
  const manages: TaskRun[] = [];
  const activeVms = new Set<string>();
  for (const task of active) {
    if (task.vm !== undefined) activeVms.add(task.vm);
    if (!lease.valid() || deps.stopping?.aborted) break;
    const run = new TaskRun(task, lease, deps);
    const went = await run.run(preset);
    if (went === 'stop') break;
    // 'waiting' (for the disruption budget): taken up again at the next manage; the others go on.
    if (went === 'deferred') manages.push(run);
  }
  if (manages.length === 0) return { force: false, activeVms };
  return {
    force: true,
    activeVms,
    after: async (outcome) => {
      for (const run of manages) await run.endManage(outcome);
    },
  };
}
