import { type IaasCapability, META_SPEC, type Vm } from '../drivers/types.js';
import type { Preset } from '../presets/preset.js';
import { type Admission, admitVerb } from './admit-verb.js';
import { type Cloud, capabilitiesOf } from './apply.js';
import { classify } from './classify.js';
import { disruptionBudget } from './disruption-budget.js';
import { healthOfSnapshots } from './health.js';
import { withHookWaitsOut } from './hooks.js';
import { type InPlaceWork, inPlaceFieldsOf, inPlaceWork } from './in-place.js';
import { membersOf, verbsInFlight } from './observe.js';
import { eventsWith, type PresetEvent, type PresetState, type VerbWait } from './state.js';
import type { Lifecycle } from './verbs.js';

/** How long a verb waits for room in the disruption budget before its task fails (`vm_verb_2003`). */
export const BUDGET_WAIT_MS = 1_800_000;

/** Whether a verb's cloud operation takes its VM out of service (an update only when disruptive). */
export function takesOut(op: string | null, from: Lifecycle, work: InPlaceWork | null): boolean {
  if (from !== 'active') return false;
  if (op === 'stop' || op === 'reboot') return true;
  return op === 'update' && work?.kind === 'update' && work.disruptive;
}

/** What an operator's update would do to the VM (null: it is at the current spec). */
export function updateWorkOf(
  preset: Preset,
  vm: Vm,
  cloud: Cloud,
  capabilities: ReadonlySet<IaasCapability> = capabilitiesOf(cloud),
): InPlaceWork | null {
  if (vm.metadata[META_SPEC] === preset.specHash && !vm.resizeUnconfirmed) return null;
  return inPlaceWork(
    preset,
    vm,
    inPlaceFieldsOf(capabilities, cloud.inPlaceFields),
    capabilities.has('setMetadata'),
  );
}

/**
 * Whether a verb may take its VM out of service now, from the preset's VMs as the cloud lists them and
 * the one disruption budget a rollout, remedies and scale-in draw from (admit-verb.ts).
 */
export async function admitTaskVerb(
  preset: Preset,
  op: string | null,
  from: Lifecycle,
  vm: Vm,
  state: PresetState,
  cloud: Cloud,
  now: number,
  signal: AbortSignal,
): Promise<Admission> {
  const work = op === 'update' ? updateWorkOf(preset, vm, cloud) : null;
  if (!takesOut(op, from, work)) return { admit: true };
  const vms = membersOf(preset, await cloud.list(preset.name, { signal }));
  const classified = classify(
    preset,
    vms,
    healthOfSnapshots(state.vms),
    now,
    state.lifecycle,
    state.deleting,
  );
  const ready = classified.find((c) => c.vm.id === vm.id)?.ready ?? false;
  const counted = withHookWaitsOut(classified, state.hooks);
  return admitVerb(true, ready, disruptionBudget(preset, counted, { verbs: verbsInFlight(state) }));
}

/**
 * The preset's state with the verb recorded as waiting (so the planner keeps its room and `plan` shows
 * it), and a `verb_waiting` event when it starts waiting. Pure.
 */
export function waitingState(
  state: PresetState,
  vmId: string,
  wait: Omit<VerbWait, 'since'>,
  now: number,
  event: (e: Omit<PresetEvent, 'token' | 'instance'>) => PresetEvent,
  eventsKept: number,
): PresetState {
  const before = state.waiting?.[vmId];
  const first = before === undefined;
  return {
    ...state,
    ...(first
      ? {
          events: eventsWith(
            state.events,
            [
              event({
                at: new Date(now).toISOString(),
                type: 'verb_waiting',
                vm: vmId,
                reason: `${wait.verb} by ${wait.by} ${wait.reason}`,
                code: 'vm_verb_2003',
              }),
            ],
            eventsKept,
          ),
        }
      : {}),
    waiting: { ...state.waiting, [vmId]: { ...wait, since: before?.since ?? now } },
  };
}

/** The state without the VM's waiting verb (it ran, failed or was cancelled). Pure. */
/**
 * The state without the waits of verbs whose task is no longer active (cancelled while it waited, or
 * ended by another path): their VMs' room in the budget is free again.
 */
export function withActiveWaits(state: PresetState, activeVms: ReadonlySet<string>): PresetState {
  if (!state.waiting) return state;
  let next = state;
  for (const vmId of Object.keys(state.waiting)) if (!activeVms.has(vmId)) next = withoutWaiting(next, vmId);
  return next;
}

export function withoutWaiting(state: PresetState, vmId: string): PresetState {
  if (!state.waiting?.[vmId]) return state;
  const { [vmId]: _gone, ...rest } = state.waiting;
  const { waiting: _w, ...others } = state;
  return { ...others, ...(Object.keys(rest).length > 0 ? { waiting: rest } : {}) };
}
