import type { TaskRecord } from '../drivers/types.js';
import type { BeforeTerminateHook } from '../presets/hooks-policy.js';
import type { Preset } from '../presets/preset.js';
import { answerWait, HOOK_ANSWERS, type HookAnswer } from './hooks.js';
import type { ActionEvent } from './operator-actions.js';
import { eventsWith, type PresetEvent, type PresetState } from './state.js';

/** The answer a `hook` task carries (its data), or undefined when it holds none. */
export function hookAnswerOf(data: Readonly<Record<string, unknown>> | undefined): HookAnswer | undefined {
  const r = data?.result;
  return HOOK_ANSWERS.includes(r as HookAnswer) ? (r as HookAnswer) : undefined;
}

/**
 * The state after a receiver answered a VM's before_terminate hook (a `hook` task's record step, under
 * the lease): the wait settled or, for a heartbeat, its deadline moved. The same state when no hook
 * waits for the VM or it was answered already (the first answer stands).
 */
export function hookAnsweredState(
  state: PresetState,
  vmId: string,
  answer: HookAnswer,
  by: string,
  now: number,
  hook: Pick<BeforeTerminateHook, 'heartbeatMs' | 'maxWaitMs'> | undefined,
  event: (e: ActionEvent) => PresetEvent,
  eventsKept: number,
): PresetState {
  const w = state.hooks?.[vmId];
  const next = w && hook ? answerWait(w, answer, by, now, hook) : undefined;
  if (!next) return state;
  const e = event({
    at: new Date(now).toISOString(),
    type: answer === 'heartbeat' ? 'hook_heartbeat' : 'hook_answered',
    vm: vmId,
    reason:
      answer === 'heartbeat'
        ? `before_terminate heartbeat by ${by}: waits until ${new Date(next.deadline).toISOString()}`
        : `before_terminate answered ${answer} by ${by}`,
    data: { id: w?.id ?? '', result: answer },
  });
  return {
    ...state,
    hooks: { ...state.hooks, [vmId]: next },
    events: eventsWith(state.events, [e], eventsKept),
  };
}

/** The state after a `hook` task (run-tasks.ts): its answer applied to the VM's wait. */
export function hookTaskState(
  preset: Preset,
  state: PresetState,
  t: Pick<TaskRecord, 'vm' | 'by' | 'data'>,
  now: number,
  event: (e: ActionEvent) => PresetEvent,
  eventsKept: number,
): PresetState {
  const answer = hookAnswerOf(t.data);
  if (!answer || t.vm === undefined) return state;
  return hookAnsweredState(state, t.vm, answer, t.by, now, preset.hooks?.beforeTerminate, event, eventsKept);
}
