import type { Logger } from 'pino';
import type { RuntimeStore, TaskRecord, TaskStore } from '../drivers/types.js';
import type { Clock } from '../util/clock.js';
import type { Cloud } from './apply.js';
import type { TaskLockDeps } from './task-locks.js';

/** What running a preset's tasks needs: the stores, the cloud, and how this executor is known. */
export interface TaskDeps {
  tasks: TaskStore;
  runtime: RuntimeStore;
  cloud: Cloud;
  clock: Clock;
  logger: Logger;
  instanceId: string;
  eventsKept: number;
  /** Stops taking up tasks (the daemon stops); a step in flight finishes. */
  stopping?: AbortSignal;
  /** How long `wait stopped` waits for the cloud, and how often it looks. */
  waitMs?: number;
  pollMs?: number;
  /** Called when a task ends here (metrics). */
  onFinished?: (task: TaskRecord) => void;
  /** `limits:`: disruptive steps take the infrastructure locks first (docs/locks.md). */
  locks?: TaskLockDeps['locks'];
}

/** What a task's step did: skipped (with why), a note for its record, data for the steps after it. */
export interface StepResult {
  skipped?: boolean;
  note?: string;
  data?: Record<string, string | number | null>;
}
