import type { TaskRecord } from '../drivers/types.js';
import type { Preset } from '../presets/preset.js';
import { hookTaskState } from './hook-answer.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { type ActionEvent, pausedState, terminatedState, terminateHandedOver } from './operator-actions.js';
import { eventsWith, type PresetEvent, type PresetState, parseState } from './state.js';
import type { StepResult, TaskDeps } from './task-deps.js';
import { withoutWaiting } from './verb-admission.js';
import { type Lifecycle, lifecycleAfter, type VerbDecision } from './verbs.js';

/** Saves what the task changed in the preset's state, with an event naming the task, unless saved already. */
export async function recordTask(
  preset: Preset,
  t: TaskRecord,
  lease: LeaseKeeper,
  deps: TaskDeps,
): Promise<StepResult> {
  const state = parseState(await deps.runtime.load(preset.name));
  if (state.events.some((e) => e.task === t.id)) return { skipped: true, note: 'recorded already' };
  const now = deps.clock.now();
  const event = (e: ActionEvent): PresetEvent => ({
    ...e,
    task: t.id,
    token: lease.token,
    instance: deps.instanceId,
  });
  let next: PresetState;
  if (t.verb === 'pause' || t.verb === 'resume') {
    next = pausedState(state, t.verb === 'pause', t.by, now, event, deps.eventsKept);
    if (next === state) return { skipped: true, note: `already ${t.verb}d` };
  } else if (t.verb === 'hook') {
    next = hookTaskState(preset, state, t, now, event, deps.eventsKept);
    if (next === state) return { skipped: true, note: 'no hook waits for an answer' };
  } else if (t.verb === 'terminate' && t.data?.handover) {
    next = terminateHandedOver(state, t.vm ?? '', t.by, now, event, deps.eventsKept);
  } else if (t.verb === 'terminate') {
    next = terminatedState(state, t.vm ?? '', t.by, now, event, deps.eventsKept);
  } else {
    next = withoutWaiting(verbState(preset, t, state, now, event, deps.eventsKept), t.vm ?? '');
  }
  lease.assertValid();
  await deps.runtime.save(preset.name, next, lease.current);
  const last = next.events.at(-1);
  deps.logger.info(
    { vm: t.vm, verb: t.verb, by: t.by, task: t.id, fence: lease.token },
    last?.reason ?? t.verb,
  );
  return {};
}

/** The decision `check` recorded. */
function decisionOf(t: TaskRecord): VerbDecision {
  const from = t.data?.from as Lifecycle;
  const to = t.data?.to as Lifecycle;
  const op = (t.data?.op ?? null) as VerbDecision['op'];
  return { transition: { from, op, to }, op };
}

/** The state after a verb: the VM's new lifecycle (none when back to active) and a `verb` event. */
function verbState(
  preset: Preset,
  t: TaskRecord,
  state: PresetState,
  now: number,
  event: (e: ActionEvent) => PresetEvent,
  eventsKept: number,
): PresetState {
  const vmId = t.vm ?? '';
  const decision = decisionOf(t);
  const lifecycleRecord = lifecycleAfter(decision, now, t.by, preset.scrubGraceMs);
  const { [vmId]: _old, ...others } = state.lifecycle ?? {};
  const lifecycle = lifecycleRecord ? { ...others, [vmId]: lifecycleRecord } : others;
  const opDone = t.steps.find((s) => s.name === decision.op && s.state !== 'started');
  const opNote = decision.op
    ? ` (${opDone?.note && decision.op === 'update' ? opDone.note : decision.op})`
    : '';
  const e = event({
    at: new Date(now).toISOString(),
    type: 'verb',
    vm: vmId,
    reason: `${t.verb} by ${t.by}: ${decision.transition.from} → ${decision.transition.to}${opNote}`,
  });
  const { lifecycle: _l, ...rest } = state;
  return {
    ...rest,
    events: eventsWith(state.events, [e], eventsKept),
    ...(Object.keys(lifecycle).length > 0 ? { lifecycle } : {}),
  };
}
