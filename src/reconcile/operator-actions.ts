import { META_PRESET } from '../drivers/types.js';
import { ShepherdError } from '../errors/shepherd-error.js';
import type { Preset } from '../presets/preset.js';
import { acquireWaiting, type VerbDeps } from './run-verb.js';
import { type PresetEvent, type PresetState, parseState } from './state.js';

export type OperatorDeps = Omit<VerbDeps, 'scrubGraceMs'>;

/**
 * Pauses or resumes a preset: saved in its runtime state under its lease (so every instance honours it),
 * with an event. A paused preset is observed and health-checked, never acted on.
 */
export async function setPaused(
  preset: Preset,
  paused: boolean,
  by: string,
  deps: OperatorDeps,
): Promise<PresetState> {
  return underLease(preset, deps, async (state, event) => {
    if (Boolean(state.paused) === paused) return state;
    const now = deps.clock.now();
    const { paused: _p, ...rest } = state;
    const at = new Date(now).toISOString();
    const e = event(paused ? 'paused' : 'resumed', `${paused ? 'paused' : 'resumed'} by ${by}`, at);
    const status = state.status && {
      ...state.status,
      ...(paused
        ? { phase: 'paused' as const, message: `paused by ${by} at ${at}` }
        : { phase: 'converging' as const, message: `resumed by ${by}` }),
    };
    return {
      ...rest,
      events: [...state.events, e].slice(-deps.eventsKept),
      ...(status ? { status } : {}),
      ...(paused ? { paused: { by, at: now } } : {}),
    };
  });
}

/**
 * Terminates one VM of a preset through the loop's path: under the preset's lease, only when the cloud
 * says the VM belongs to this preset, with a `terminated` event carrying the lease's fencing token. The
 * next manage starts its replacement.
 */
export async function terminateVm(
  preset: Preset,
  vmId: string,
  by: string,
  deps: OperatorDeps,
): Promise<PresetState> {
  return underLease(preset, deps, async (state, event, lease) => {
    const vm = await deps.cloud.get(vmId, { signal: lease.signal });
    if (!vm || vm.metadata[META_PRESET] !== preset.name) {
      throw new ShepherdError('vm_verb_0002', `${vmId} in ${preset.name}`, { details: { vm: vmId } });
    }
    lease.assertValid();
    await deps.cloud.terminate(vmId, { signal: lease.signal });
    const e = event('terminated', `terminated by ${by}`, new Date(deps.clock.now()).toISOString(), vmId);
    deps.logger.info({ vm: vmId, by, fence: lease.token }, 'terminated VM on request');
    const { [vmId]: _l, ...lifecycle } = state.lifecycle ?? {};
    const { lifecycle: _old, ...rest } = state;
    return {
      ...rest,
      vms: state.vms.filter((v) => v.id !== vmId),
      events: [...state.events, e].slice(-deps.eventsKept),
      ...(Object.keys(lifecycle).length > 0 ? { lifecycle } : {}),
    };
  });
}

type MakeEvent = (type: PresetEvent['type'], reason: string, at: string, vm?: string) => PresetEvent;

async function underLease(
  preset: Preset,
  deps: OperatorDeps,
  change: (
    state: PresetState,
    event: MakeEvent,
    lease: Awaited<ReturnType<typeof acquireWaiting>>,
  ) => Promise<PresetState>,
): Promise<PresetState> {
  const lease = await acquireWaiting(preset, deps);
  try {
    const state = parseState(await deps.runtime.load(preset.name));
    const event: MakeEvent = (type, reason, at, vm) => ({
      at,
      type,
      reason,
      ...(vm ? { vm } : {}),
      token: lease.token,
      instance: deps.instanceId,
    });
    const next = await change(state, event, lease);
    if (next === state) return state;
    lease.assertValid();
    await deps.runtime.save(preset.name, next, lease.current);
    return next;
  } finally {
    await lease.release();
  }
}
