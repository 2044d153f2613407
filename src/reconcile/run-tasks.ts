import type { Logger } from 'pino';
import {
  META_PRESET,
  type RuntimeStore,
  type TaskRecord,
  type TaskStep,
  type TaskStore,
} from '../drivers/types.js';
import { asShepherdError, ShepherdError } from '../errors/shepherd-error.js';
import type { Preset } from '../presets/preset.js';
import type { Clock } from '../util/clock.js';
import { type Cloud, capabilitiesOf } from './apply.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { lifecycleIn, updateInPlace } from './run-verb.js';
import { type PresetEvent, type PresetState, parseState } from './state.js';
import { MAX_TASK_ATTEMPTS, nextStep, stepInterrupted } from './task-steps.js';
import { decideVerb, type Lifecycle, lifecycleAfter, type VerbDecision, type VerbName } from './verbs.js';

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
}

/** Store failures that leave a task to be carried on later (by whoever holds the lease then). */
const LEAVE_FOR_LATER = new Set([
  'runtime_lease_0001',
  'runtime_save_0001',
  'runtime_task_0001',
  'postgres_call_2001',
  'zookeeper_call_2001',
]);

/**
 * Runs the preset's queued and running tasks, oldest first, under the lease its manage holds: each step
 * is recorded as started before it runs and as done after, every write fenced by the lease, so a task
 * whose executor died is carried on from its last recorded step by the next holder of the lease. Stops at
 * the first task it cannot write (lease lost, store down): the rest wait for the next manage.
 */
export async function runPresetTasks(preset: Preset, lease: LeaseKeeper, deps: TaskDeps): Promise<void> {
  const active = (await deps.tasks.listTasks({ preset: preset.name, active: true })).reverse();
  for (const task of active) {
    if (!lease.valid() || deps.stopping?.aborted) return;
    if (!(await runTask(preset, task, lease, deps))) return;
  }
}

/** One task to its end; false when it had to be left running (lease lost, store unreachable). */
async function runTask(
  preset: Preset,
  task: TaskRecord,
  lease: LeaseKeeper,
  deps: TaskDeps,
): Promise<boolean> {
  let t = task;
  const log = deps.logger.child({ task: task.id, vm: task.vm, verb: task.verb });
  const at = () => new Date(deps.clock.now()).toISOString();
  const write = async (next: TaskRecord) => {
    lease.assertValid();
    t = await deps.tasks.updateTask(next, lease.current);
  };
  const step = (name: string, state: TaskStep['state'], note?: string): TaskStep => ({
    name,
    state,
    at: at(),
    instance: deps.instanceId,
    token: lease.token,
    ...(note ? { note } : {}),
  });
  const finish = async (state: 'done' | 'failed', error?: TaskRecord['error']) => {
    await write({ ...t, state, finishedAt: at(), ...(error ? { error } : {}) });
    log[state === 'done' ? 'info' : 'warn'](
      { fence: lease.token, state, ...(error ? { code: error.code, step: error.step } : {}) },
      `task ${state}`,
    );
    deps.onFinished?.(t);
  };
  try {
    if (t.attempts >= MAX_TASK_ATTEMPTS) {
      const last = t.steps.at(-1)?.name;
      await finish('failed', {
        code: 'runtime_task_1001',
        message: `taken up ${t.attempts} times without finishing`,
        ...(last ? { step: last } : {}),
      });
      return true;
    }
    const resumed = t.state === 'running';
    await write({
      ...t,
      state: 'running',
      startedAt: t.startedAt ?? at(),
      executor: deps.instanceId,
      token: lease.token,
      attempts: t.attempts + 1,
    });
    log.info({ fence: lease.token, attempt: t.attempts, resumed }, resumed ? 'task resumed' : 'task started');
    for (let name = nextStep(t); name !== null; name = nextStep(t)) {
      const interrupted = stepInterrupted(t, name);
      await write({ ...t, steps: [...t.steps, step(name, 'started')] });
      log.info({ fence: lease.token, step: name, interrupted }, 'task step');
      let result: StepResult;
      try {
        result = await runStep(name, preset, t, interrupted, lease, deps);
      } catch (err) {
        const e = asShepherdError(err, 'reconcile_manage_1001');
        if (LEAVE_FOR_LATER.has(e.code) || !lease.valid()) throw e;
        await finish('failed', { code: e.code, message: e.message, step: name });
        return true;
      }
      await write({
        ...t,
        ...(result.data ? { data: { ...t.data, ...result.data } } : {}),
        steps: [...t.steps, step(name, result.skipped ? 'skipped' : 'done', result.note)],
      });
    }
    await finish('done');
    return true;
  } catch (err) {
    const e = asShepherdError(err, 'reconcile_manage_1001');
    if (e.code === 'runtime_task_0001' && lease.valid()) {
      // Still ours to run, so the task changed under us: cancelled before we took it up. On to the next.
      const now = await deps.tasks.getTask(t.id).catch(() => undefined);
      if (now && now.state !== 'queued' && now.state !== 'running') {
        log.info({ fence: lease.token, state: now.state }, 'task ended meanwhile');
        return true;
      }
    }
    log.warn(
      { fence: lease.token, code: e.code, err: e.message },
      'task left for the next holder of the lease',
    );
    return false;
  }
}

interface StepResult {
  skipped?: boolean;
  note?: string;
  data?: Record<string, string | number | null>;
}

/** The decision `check` recorded. */
function decisionOf(t: TaskRecord): VerbDecision {
  const from = t.data?.from as Lifecycle;
  const to = t.data?.to as Lifecycle;
  const op = (t.data?.op ?? null) as VerbDecision['op'];
  return { transition: { from, op, to }, op };
}

async function runStep(
  name: string,
  preset: Preset,
  t: TaskRecord,
  interrupted: boolean,
  lease: LeaseKeeper,
  deps: TaskDeps,
): Promise<StepResult> {
  const signal = lease.signal;
  const vmOf = async () => {
    const vm = await deps.cloud.get(t.vm, { signal });
    if (!vm || vm.metadata[META_PRESET] !== preset.name)
      throw new ShepherdError('vm_verb_0002', `${t.vm} in ${preset.name}`, { details: { vm: t.vm } });
    return vm;
  };
  switch (name) {
    case 'check': {
      const state = parseState(await deps.runtime.load(preset.name));
      await vmOf();
      const d = decideVerb(t.verb as VerbName, lifecycleIn(state, t.vm), capabilitiesOf(deps.cloud));
      return { data: { from: d.transition.from, to: d.transition.to, op: d.op } };
    }
    case 'stop': {
      const vm = await vmOf();
      if (vm.state === 'stopped') return { skipped: true, note: 'already stopped' };
      lease.assertValid();
      await deps.cloud.verb('stop', t.vm, undefined, { signal });
      return {};
    }
    case 'start': {
      const vm = await vmOf();
      if (vm.state === 'running' || vm.state === 'pending')
        return { skipped: true, note: `already ${vm.state}` };
      lease.assertValid();
      await deps.cloud.verb('start', t.vm, undefined, { signal });
      return {};
    }
    case 'reboot': {
      await vmOf();
      // Whether the interrupted call reached the cloud cannot be told: a reboot is never sent twice.
      if (interrupted) return { skipped: true, note: 'interrupted: not repeated' };
      lease.assertValid();
      await deps.cloud.verb('reboot', t.vm, undefined, { signal });
      return {};
    }
    case 'update': {
      const vm = await vmOf();
      lease.assertValid();
      const op = await updateInPlace(preset, vm, capabilitiesOf(deps.cloud), deps.cloud, lease);
      return op ? { note: op } : { skipped: true, note: 'already at the current spec' };
    }
    case 'wait stopped': {
      const until = deps.clock.now() + (deps.waitMs ?? 300_000);
      for (;;) {
        const vm = await vmOf();
        if (vm.state === 'stopped') return {};
        if (deps.clock.now() >= until)
          throw new ShepherdError('vm_verb_2002', `${t.vm} is ${vm.state}, not stopped`, {
            details: { vm: t.vm, state: vm.state },
          });
        await deps.clock.sleep(deps.pollMs ?? 1000, signal);
      }
    }
    case 'record':
      return record(preset, t, lease, deps);
    default:
      throw new ShepherdError('reconcile_manage_1001', `unknown step ${name} of task ${t.id}`);
  }
}

/** Saves the VM's new lifecycle with an event naming the task, unless an earlier run already did. */
async function record(
  preset: Preset,
  t: TaskRecord,
  lease: LeaseKeeper,
  deps: TaskDeps,
): Promise<StepResult> {
  const state = parseState(await deps.runtime.load(preset.name));
  if (state.events.some((e) => e.task === t.id)) return { skipped: true, note: 'recorded already' };
  const decision = decisionOf(t);
  const now = deps.clock.now();
  const lifecycleRecord = lifecycleAfter(decision, now, t.by, preset.scrubGraceMs);
  const { [t.vm]: _old, ...others } = state.lifecycle ?? {};
  const lifecycle = lifecycleRecord ? { ...others, [t.vm]: lifecycleRecord } : others;
  const opDone = t.steps.find((s) => s.name === decision.op && s.state !== 'started');
  const opNote = decision.op
    ? ` (${opDone?.note && decision.op === 'update' ? opDone.note : decision.op})`
    : '';
  const event: PresetEvent = {
    at: new Date(now).toISOString(),
    type: 'verb',
    vm: t.vm,
    reason: `${t.verb} by ${t.by}: ${decision.transition.from} → ${decision.transition.to}${opNote}`,
    task: t.id,
    token: lease.token,
    instance: deps.instanceId,
  };
  const { lifecycle: _l, ...rest } = state;
  const next: PresetState = {
    ...rest,
    events: [...state.events, event].slice(-deps.eventsKept),
    ...(Object.keys(lifecycle).length > 0 ? { lifecycle } : {}),
  };
  lease.assertValid();
  await deps.runtime.save(preset.name, next, lease.current);
  deps.logger.info({ vm: t.vm, verb: t.verb, by: t.by, task: t.id, fence: lease.token }, event.reason);
  return {};
}
