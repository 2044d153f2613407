import { randomUUID } from 'node:crypto';
import PQueue from 'p-queue';
import { asShepherdError } from '../errors/shepherd-error.js';
import type { VerbName } from '../reconcile/verbs.js';

export type TaskState = 'queued' | 'running' | 'done' | 'failed';

/** A verb requested on a VM, tracked from request to outcome. */
export interface Task {
  id: string;
  preset: string;
  vm: string;
  verb: VerbName;
  by: string;
  state: TaskState;
  error?: { code: string; message: string };
  /** ISO 8601 UTC. */
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
}

/**
 * Runs verbs in the background so a caller never waits on the cloud: `submit` returns a queued task at
 * once; its state moves to running, then done or failed. The most recent tasks are kept for the API.
 */
export class TaskRunner {
  private readonly tasks = new Map<string, Task>();
  private readonly queue: PQueue;
  /** Called when a task ends (metrics). */
  onFinished: ((task: Task) => void) | undefined;

  constructor(
    concurrency = 8,
    private readonly kept = 1000,
  ) {
    this.queue = new PQueue({ concurrency });
  }

  submit(fields: Pick<Task, 'preset' | 'vm' | 'verb' | 'by'>, run: () => Promise<void>): Task {
    const task: Task = { id: randomUUID(), ...fields, state: 'queued', createdAt: new Date().toISOString() };
    this.tasks.set(task.id, task);
    this.trim();
    const submitted = { ...task }; // as it was when submitted: the caller does not wait for it to start
    void this.queue.add(async () => {
      task.state = 'running';
      task.startedAt = new Date().toISOString();
      try {
        await run();
        task.state = 'done';
      } catch (err) {
        const e = asShepherdError(err, 'reconcile_manage_1001');
        task.state = 'failed';
        task.error = { code: e.code, message: e.message };
      } finally {
        task.finishedAt = new Date().toISOString();
        this.onFinished?.(task);
      }
    });
    return submitted;
  }

  get(id: string): Task | undefined {
    return this.tasks.get(id);
  }

  /** Newest first, optionally of one preset. */
  list(preset?: string): Task[] {
    return [...this.tasks.values()].filter((t) => preset === undefined || t.preset === preset).reverse();
  }

  /** Waits for every task in flight (daemon stop, tests). */
  idle(): Promise<void> {
    return this.queue.onIdle();
  }

  private trim(): void {
    for (const [id, t] of this.tasks) {
      if (this.tasks.size <= this.kept) break;
      if (t.state === 'done' || t.state === 'failed') this.tasks.delete(id);
    }
  }
}
