import { eventsWith, type PresetEvent, type PresetState } from './state.js';

/** An event of an operator's action, without the lease facts (`token`, `instance`) added by its writer. */
export type ActionEvent = Omit<PresetEvent, 'token' | 'instance'>;

/**
 * The state of a preset paused or resumed by `by` (the same state when it already is): saved under its
 * lease, every instance honours it. A paused preset is observed and health-checked, never acted on.
 */
export function pausedState(
  state: PresetState,
  paused: boolean,
  by: string,
  now: number,
  event: (e: ActionEvent) => PresetEvent,
  eventsKept: number,
): PresetState {
  if (Boolean(state.paused) === paused) return state;
  const { paused: _p, ...rest } = state;
  const at = new Date(now).toISOString();
  const e = event({
    at,
    type: paused ? 'paused' : 'resumed',
    reason: `${paused ? 'paused' : 'resumed'} by ${by}`,
  });
  const status = state.status && {
    ...state.status,
    ...(paused
      ? { phase: 'paused' as const, message: `paused by ${by} at ${at}` }
      : { phase: 'converging' as const, message: `resumed by ${by}` }),
  };
  return {
    ...rest,
    events: eventsWith(state.events, [e], eventsKept),
    ...(status ? { status } : {}),
    ...(paused ? { paused: { by, at: now } } : {}),
  };
}

/** The state after an operator terminated one VM: gone from the snapshot and lifecycle, with an event. */
export function terminatedState(
  state: PresetState,
  vmId: string,
  by: string,
  now: number,
  event: (e: ActionEvent) => PresetEvent,
  eventsKept: number,
): PresetState {
  const e = event({
    at: new Date(now).toISOString(),
    type: 'terminated',
    reason: `terminated by ${by}`,
    vm: vmId,
  });
  const { [vmId]: _l, ...lifecycle } = state.lifecycle ?? {};
  const { lifecycle: _old, ...rest } = state;
  return {
    ...rest,
    vms: state.vms.filter((v) => v.id !== vmId),
    events: eventsWith(state.events, [e], eventsKept),
    ...(Object.keys(lifecycle).length > 0 ? { lifecycle } : {}),
  };
}

/**
 * The state after an operator's terminate on a preset with a before_terminate hook: the VM is marked
 * `terminating`, and the loop deletes it once its hook is answered or timed out (docs/hooks.md).
 */
export function terminateHandedOver(
  state: PresetState,
  vmId: string,
  by: string,
  now: number,
  event: (e: ActionEvent) => PresetEvent,
  eventsKept: number,
): PresetState {
  const e = event({
    at: new Date(now).toISOString(),
    type: 'terminate_requested',
    reason: `terminate asked by ${by}: after the before_terminate hook`,
    vm: vmId,
  });
  return {
    ...state,
    lifecycle: { ...state.lifecycle, [vmId]: { state: 'terminating', since: now, by } },
    events: eventsWith(state.events, [e], eventsKept),
  };
}
