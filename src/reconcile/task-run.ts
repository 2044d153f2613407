import type { Span } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { META_PRESET, type TaskRecord, type TaskStep } from '../drivers/types.js';
import { asShepherdError, ShepherdError } from '../errors/shepherd-error.js';
import { endTaskSpan, inStepSpan, startTaskSpan, withSpan } from '../observability/task-tracing.js';
import type { Preset } from '../presets/preset.js';
import { withStoredCount } from './demand-phase.js';
import type { LeaseKeeper } from './lease-keeper.js';
import type { ManageOutcome } from './manage-outcome.js';
import type { ActionEvent } from './operator-actions.js';
import { recordTask } from './record-task.js';
import { runTaskStep } from './run-task-step.js';
import { type PresetEvent, type PresetState, parseState } from './state.js';
import type { StepResult, TaskDeps } from './task-deps.js';
import { LOCKED_STEPS, withStepLocks } from './task-locks.js';
import { MAX_TASK_ATTEMPTS, nextStep, stepInterrupted } from './task-steps.js';
import { admitTaskVerb, BUDGET_WAIT_MS, waitingState, withoutWaiting } from './verb-admission.js';
import type { Lifecycle } from './verbs.js';

/** Steps of a verb that may take its VM out of service: each waits for room in the disruption budget. */
const DISRUPTIVE_STEPS = new Set(['stop', 'reboot', 'update']);

/** Store failures that leave a task to be carried on later (by whoever holds the lease then). */
const LEAVE_FOR_LATER = new Set([
  'runtime_lease_0001',
  'runtime_save_0001',
  'runtime_task_0001',
  'postgres_call_2001',
  'zookeeper_call_2001',
]);

/** How an attempt at a task went (TaskRun.run). */
type Went = 'done' | 'deferred' | 'waiting' | 'stop';

/** One task taken up by this executor: its record as last written, and the fenced writes. */
export class TaskRun {
  private readonly log: Logger;
  /** This attempt's span: ended when run() returns, or for a `manage` task by the manage's outcome. */
  private span: Span | undefined;

  constructor(
    private t: TaskRecord,
    private readonly lease: LeaseKeeper,
    private readonly deps: TaskDeps,
  ) {
    this.log = deps.logger.child({ task: t.id, verb: t.verb, ...(t.vm ? { vm: t.vm } : {}) });
  }

  /**
   * To its end ('done'), up to the manage ('deferred'), 'waiting' for room in the disruption budget, or
   * 'stop' when it had to be left running.
   */
  async run(preset: Preset): Promise<Went> {
    const span = startTaskSpan(this.t, this.deps.instanceId);
    this.span = span;
    const went = await withSpan(span, () => this.attempt(preset));
    if (went !== 'deferred') this.endSpan(went);
    return went;
  }

  private endSpan(went: string): void {
    if (this.span) endTaskSpan(this.span, this.t, went);
    this.span = undefined;
  }

  private async attempt(preset: Preset): Promise<Went> {
    try {
      if (this.t.attempts >= MAX_TASK_ATTEMPTS) {
        const last = this.t.steps.at(-1)?.name;
        await this.finish('failed', {
          code: 'runtime_task_1001',
          message: `taken up ${this.t.attempts} times without finishing`,
          ...(last ? { step: last } : {}),
        });
        return 'done';
      }
      await this.takeUp();
      for (let name = nextStep(this.t); name !== null; name = nextStep(this.t)) {
        const went = await this.runNext(preset, name);
        if (went !== 'next') return went;
      }
      await this.finish('done');
      return 'done';
    } catch (err) {
      return (await this.leftRunning(err)) ? 'done' : 'stop';
    }
  }

  /** Records the task as running here, under this lease: a new attempt unless it only waited. */
  private async takeUp(): Promise<void> {
    const { lease } = this;
    const resumed = this.t.state === 'running';
    // A verb waiting for the budget or a lock is looked at every manage: that is no new attempt.
    const waiting = typeof this.t.data?.waiting === 'string' || typeof this.t.data?.lockWait === 'string';
    await this.write({
      ...this.t,
      state: 'running',
      startedAt: this.t.startedAt ?? this.at(),
      executor: this.deps.instanceId,
      token: lease.token,
      attempts: this.t.attempts + (waiting ? 0 : 1),
    });
    this.log[waiting ? 'debug' : 'info'](
      { fence: lease.token, attempt: this.t.attempts, resumed },
      resumed ? 'task resumed' : 'task started',
    );
  }

  /** Runs the task's next step: 'next' once it is recorded done or skipped, else how the attempt ends. */
  private async runNext(preset: Preset, name: string): Promise<Went | 'next'> {
    const { lease } = this;
    const interrupted = stepInterrupted(this.t, name);
    if (DISRUPTIVE_STEPS.has(name) && !interrupted) {
      const admission = await this.admit(preset, name);
      if (admission !== 'go') return admission;
    }
    const start = async () => {
      await this.write({ ...this.t, steps: [...this.t.steps, this.step(name, 'started')] });
      this.log.info({ fence: lease.token, step: name, interrupted }, 'task step');
    };
    if (name === 'manage') {
      await start();
      return 'deferred';
    }
    let result: StepResult;
    try {
      const exec = async () => {
        await start();
        return runTaskStep(name, preset, this.t, interrupted, lease, this.deps);
      };
      const locked = await this.locked(preset, name, interrupted, () =>
        inStepSpan(name, (r) => (r.skipped ? 'skipped' : 'done'), exec),
      );
      if (!locked.ran) {
        await this.waitForLock(locked.reason);
        return 'waiting';
      }
      result = locked.value;
    } catch (err) {
      const e = asShepherdError(err, 'reconcile_manage_1001');
      if (LEAVE_FOR_LATER.has(e.code) || !lease.valid()) throw e;
      // The stop reached the cloud: the VM is recorded where the verb takes it, so that no manage
      // mistakes a VM still stopping for a dead one and replaces it.
      if (name === 'wait stopped') await recordTask(preset, this.t, lease, this.deps);
      await this.finish('failed', { code: e.code, message: e.message, step: name });
      return 'done';
    }
    const { lockWait: _w, ...data } = this.t.data ?? {};
    await this.write({
      ...this.t,
      ...(result.data || _w !== undefined ? { data: { ...data, ...result.data } } : {}),
      steps: [...this.t.steps, this.step(name, result.skipped ? 'skipped' : 'done', result.note)],
    });
    return 'next';
  }

  /**
   * Whether the verb's step that takes its VM out of service may run now: 'go', 'waiting' (recorded on
   * the task and in the preset's state, so the planner keeps the room and `plan` shows it), or 'done'
   * when it waited longer than BUDGET_WAIT_MS (failed, vm_verb_2003).
   */
  private async admit(preset: Preset, step: string): Promise<'go' | 'waiting' | 'done'> {
    const { deps, lease } = this;
    const vmId = this.t.vm ?? '';
    const vm = await deps.cloud.get(vmId, { signal: lease.signal });
    if (!vm || vm.metadata[META_PRESET] !== preset.name) return 'go'; // the step itself reports it
    const state = parseState(await deps.runtime.load(preset.name));
    const now = deps.clock.now();
    const from = (this.t.data?.from ?? 'active') as Lifecycle;
    const a = await admitTaskVerb(
      withStoredCount(preset, state),
      step,
      from,
      vm,
      state,
      deps.cloud,
      now,
      lease.signal,
    );
    const { waiting: _w, waitingSince: _s, ...data } = this.t.data ?? {};
    if (a.admit) {
      if (this.t.data?.waiting === undefined) return 'go';
      await this.write({ ...this.t, data });
      await this.saveState(preset, withoutWaiting(state, vmId));
      return 'go';
    }
    const since = typeof this.t.data?.waitingSince === 'number' ? this.t.data.waitingSince : now;
    if (now - since >= BUDGET_WAIT_MS) {
      await this.saveState(preset, withoutWaiting(state, vmId));
      const waited = Math.round((now - since) / 1000);
      await this.finish('failed', { code: 'vm_verb_2003', message: `waited ${waited}s; ${a.reason}`, step });
      return 'done';
    }
    if (this.t.data?.waiting !== a.reason) {
      await this.write({ ...this.t, data: { ...data, waiting: a.reason, waitingSince: since } });
      this.log.info({ fence: lease.token, step }, a.reason);
    }
    if (state.waiting?.[vmId]?.reason !== a.reason) {
      const wait = { verb: this.t.verb, by: this.t.by, until: since + BUDGET_WAIT_MS, reason: a.reason };
      // Not marked with the task: `record` takes an event of its task as the verb recorded already.
      const event = (e: ActionEvent): PresetEvent => ({
        ...e,
        token: lease.token,
        instance: deps.instanceId,
      });
      await this.saveState(preset, waitingState(state, vmId, wait, now, event, deps.eventsKept));
    }
    return 'waiting';
  }

  private async saveState(preset: Preset, next: PresetState): Promise<void> {
    this.lease.assertValid();
    await this.deps.runtime.save(preset.name, next, this.lease.current);
  }

  /** Ends a `manage` task with the outcome of the manage it asked for. */
  async endManage(o: ManageOutcome): Promise<void> {
    try {
      if (o.result === 'managed') {
        const note = `${o.created} created, ${o.terminated} terminated${o.failedActions ? `, ${o.failedActions} actions failed` : ''}`;
        await this.write({ ...this.t, steps: [...this.t.steps, this.step('manage', 'done', note)] });
        await this.finish('done');
      } else {
        const e = o.error ?? new ShepherdError('reconcile_manage_1001', `manage ${o.result}`);
        if (o.runtimeFailure || LEAVE_FOR_LATER.has(e.code)) throw e;
        await this.finish('failed', { code: e.code, message: e.message, step: 'manage' });
      }
    } catch (err) {
      await this.leftRunning(err);
    }
    this.endSpan('managed');
  }

  /**
   * Runs a step, under the infrastructure locks when it disrupts its VM and `limits:` are set. Taken
   * before the step is recorded as started: a step that waits was never started (a reboot waiting for
   * its lock is sent later, not skipped as interrupted).
   */
  private locked(
    preset: Preset,
    name: string,
    interrupted: boolean,
    exec: () => Promise<StepResult>,
  ): Promise<{ ran: true; value: StepResult } | { ran: false; reason: string }> {
    const locks = this.deps.locks;
    if (!locks || interrupted || !LOCKED_STEPS.has(name) || this.t.vm === undefined)
      return exec().then((value) => ({ ran: true as const, value }));
    const last = typeof this.t.data?.lockWait === 'string' ? this.t.data.lockWait : undefined;
    return withStepLocks(preset, name, this.t.vm, this.lease, last, { ...this.deps, locks }, exec);
  }

  /** Records the wait as a step (`wait for lock`, its reason) when it starts or its holder changes. */
  private async waitForLock(reason: string): Promise<void> {
    if (this.t.data?.lockWait === reason) return;
    await this.write({
      ...this.t,
      data: { ...this.t.data, lockWait: reason },
      steps: [...this.t.steps, this.step('wait for lock', 'done', reason)],
    });
    this.log.info({ fence: this.lease.token }, reason);
  }

  /** True when the task ended meanwhile (cancelled before we took it up): then on to the next. */
  private async leftRunning(err: unknown): Promise<boolean> {
    const e = asShepherdError(err, 'reconcile_manage_1001');
    if (e.code === 'runtime_task_0001' && this.lease.valid()) {
      const now = await this.deps.tasks.getTask(this.t.id).catch(() => undefined);
      if (now && now.state !== 'queued' && now.state !== 'running') {
        this.log.info({ fence: this.lease.token, state: now.state }, 'task ended meanwhile');
        return true;
      }
    }
    this.log.warn(
      { fence: this.lease.token, code: e.code, err: e.message },
      'task left for the next holder of the lease',
    );
    return false;
  }

  private at(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }

  private async write(next: TaskRecord): Promise<void> {
    this.lease.assertValid();
    this.t = await this.deps.tasks.updateTask(next, this.lease.current);
  }

  private step(name: string, state: TaskStep['state'], note?: string): TaskStep {
    return {
      name,
      state,
      at: this.at(),
      instance: this.deps.instanceId,
      token: this.lease.token,
      ...(note ? { note } : {}),
    };
  }

  private async finish(state: 'done' | 'failed', error?: TaskRecord['error']): Promise<void> {
    await this.write({ ...this.t, state, finishedAt: this.at(), ...(error ? { error } : {}) });
    this.log[state === 'done' ? 'info' : 'warn'](
      { fence: this.lease.token, state, ...(error ? { code: error.code, step: error.step } : {}) },
      `task ${state}`,
    );
    this.deps.onFinished?.(this.t);
  }
}
