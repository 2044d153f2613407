import type { Logger } from 'pino';
import { type IaasCapability, META_PARTS, META_SPEC, type RuntimeStore, type Vm } from '../drivers/types.js';
import { ShepherdError } from '../errors/shepherd-error.js';
import type { Preset } from '../presets/preset.js';
import type { Clock } from '../util/clock.js';
import { bringToSpec, type Cloud, capabilitiesOf } from './apply.js';
import { inPlaceFieldsOf, inPlaceWork, opName } from './in-place.js';
import { LeaseKeeper } from './lease-keeper.js';
import { leaseKey } from './manage-preset.js';
import { vmSpec } from './spec.js';
import { type PresetState, parseState } from './state.js';
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
  clock: Clock;
  logger: Logger;
  instanceId: string;
  eventsKept: number;
  scrubGraceMs: number;
  /** How long to wait for the preset lease (a manage in progress holds it). */
  leaseWaitMs: number;
}

/** The VM's lifecycle as last saved. */
export function lifecycleIn(state: PresetState, vmId: string): Lifecycle {
  return state.lifecycle?.[vmId]?.state ?? 'active';
}

/**
 * Checks a request without touching the cloud, so an API caller learns at once that it is illegal:
 * the VM must be in the preset's last snapshot, the transition legal, the cloud able to do it.
 */
export async function checkVerb(req: VerbRequest, deps: Pick<VerbDeps, 'runtime' | 'cloud'>): Promise<void> {
  const state = parseState(await deps.runtime.load(req.preset.name));
  const vm = state.vms.find((v) => v.id === req.vmId);
  if (!vm)
    throw new ShepherdError('vm_verb_0002', `${req.vmId} in ${req.preset.name}`, {
      details: { vm: req.vmId },
    });
  decideVerb(req.verb, lifecycleIn(state, req.vmId), capabilitiesOf(deps.cloud));
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
  if (vm.metadata[META_SPEC] === preset.specHash && !vm.resizeUnconfirmed) return null;
  const fields = inPlaceFieldsOf(capabilities, cloud.inPlaceFields);
  const work = inPlaceWork(preset, vm, fields, capabilities.has('setMetadata'));
  if (work.kind === 'replace')
    throw new ShepherdError('reconcile_update_1001', `update of ${vm.id}: ${work.reason}`, {
      details: { verb: 'update', fields: work.fields.join(',') },
    });
  const steps = work.kind === 'update' ? work.steps : [];
  await bringToSpec(cloud, vm.id, steps, vm.metadata[META_PARTS], preset, vmSpec(preset), lease);
  return opName(steps);
}

/** Takes the preset's lease, waiting up to `leaseWaitMs` for a manage in progress to release it. */
export async function acquireWaiting(
  preset: Preset,
  deps: Pick<VerbDeps, 'runtime' | 'clock' | 'logger' | 'leaseWaitMs'>,
): Promise<LeaseKeeper> {
  const until = deps.clock.now() + deps.leaseWaitMs;
  for (;;) {
    const lease = await LeaseKeeper.acquire(
      leaseKey(preset.name),
      preset.leaseTtlMs,
      deps.runtime,
      deps.clock,
      deps.logger,
    );
    if (lease) return lease;
    if (deps.clock.now() >= until) {
      throw new ShepherdError('vm_verb_2001', `${preset.name} stayed leased for ${deps.leaseWaitMs / 1000}s`);
    }
    await deps.clock.sleep(250);
  }
}
