import { type IaasCapability, META_PARTS, type RuntimeStore, type Vm } from '../drivers/types.js';
import { ShepherdError } from '../errors/shepherd-error.js';
import type { Preset } from '../presets/preset.js';
import { bringToSpec, type Cloud, capabilitiesOf } from './apply.js';
import { opName } from './in-place.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { vmSpec } from './spec.js';
import { type PresetState, parseState } from './state.js';
import { updateWorkOf } from './verb-admission.js';
import { decideVerb, type Lifecycle, type VerbName } from './verbs.js';

export interface VerbRequest {
  preset: Preset;
  vmId: string;
  verb: VerbName;
  /** Who asked (token name, `cli`...), recorded in the event. */
  by: string;
}

export interface VerbDeps {
  runtime: RuntimeStore;
  cloud: Cloud;
}

/** The VM's lifecycle as last saved. */
export function lifecycleIn(state: PresetState, vmId: string): Lifecycle {
  return state.lifecycle?.[vmId]?.state ?? 'active';
}

/**
 * Checks a request without touching the cloud, so an API caller learns at once that it is illegal:
 * the VM must be in the preset's last snapshot, the transition legal, the cloud able to do it.
 */
export async function checkVerb(req: VerbRequest, deps: VerbDeps): Promise<void> {
  const state = await checkVmKnown(req.preset, req.vmId, deps.runtime);
  decideVerb(req.verb, lifecycleIn(state, req.vmId), capabilitiesOf(deps.cloud));
}

/** The preset's state as last saved, when it lists the VM; `vm_verb_0002` when it does not. */
export async function checkVmKnown(
  preset: Preset,
  vmId: string,
  runtime: RuntimeStore,
): Promise<PresetState> {
  const state = parseState(await runtime.load(preset.name));
  if (!state.vms.some((v) => v.id === vmId))
    throw new ShepherdError('vm_verb_0002', `${vmId} in ${preset.name}`, { details: { vm: vmId } });
  return state;
}

/**
 * An operator's update: the VM brought to the current spec by the verbs its differing fields require,
 * then recorded; refused when a field cannot change in place. Returns what was done (null: nothing was
 * outdated).
 */
export async function updateInPlace(
  preset: Preset,
  vm: Vm,
  capabilities: ReadonlySet<IaasCapability>,
  cloud: Cloud,
  lease: LeaseKeeper,
): Promise<string | null> {
  const work = updateWorkOf(preset, vm, cloud, capabilities);
  if (work === null) return null;
  if (work.kind === 'replace')
    throw new ShepherdError('reconcile_update_1001', `update of ${vm.id}: ${work.reason}`, {
      details: { verb: 'update', fields: work.fields.join(',') },
    });
  const steps = work.kind === 'update' ? work.steps : [];
  await bringToSpec(cloud, vm.id, steps, vm.metadata[META_PARTS], preset, vmSpec(preset), lease);
  return opName(steps);
}
