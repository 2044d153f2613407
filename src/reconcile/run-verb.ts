import type { Logger } from 'pino';
import {
  type IaasCapability,
  META_PARTS,
  META_PRESET,
  META_SPEC,
  type RuntimeStore,
  type Vm,
} from '../drivers/types.js';
import { ShepherdError } from '../errors/shepherd-error.js';
import type { Preset } from '../presets/preset.js';
import type { Clock } from '../util/clock.js';
import { bringToSpec, type Cloud, capabilitiesOf } from './apply.js';
import { inPlaceFieldsOf, inPlaceWork, opName } from './in-place.js';
import { LeaseKeeper } from './lease-keeper.js';
import { leaseKey } from './manage-preset.js';
import { vmSpec } from './spec.js';
import { type PresetEvent, type PresetState, parseState } from './state.js';
import { decideVerb, type Lifecycle, lifecycleAfter, type VerbName } from './verbs.js';

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
 * Carries out a verb through the same path as the reconcile loop: under the preset's lease (waiting for a
 * manage in progress), checking that the VM belongs to the preset, and saving the new lifecycle with an
 * event and the lease's fencing token.
 */
export async function runVerb(req: VerbRequest, deps: VerbDeps): Promise<void> {
  const lease = await acquireWaiting(req.preset, deps);
  try {
    const state = parseState(await deps.runtime.load(req.preset.name));
    const vm = await deps.cloud.get(req.vmId, { signal: lease.signal });
    if (!vm || vm.metadata[META_PRESET] !== req.preset.name) {
      throw new ShepherdError('vm_verb_0002', `${req.vmId} in ${req.preset.name}`, {
        details: { vm: req.vmId },
      });
    }
    const from = lifecycleIn(state, req.vmId);
    const capabilities = capabilitiesOf(deps.cloud);
    const decision = decideVerb(req.verb, from, capabilities);
    lease.assertValid();
    let op: string | null = decision.op;
    if (decision.op === 'update') op = await updateInPlace(req, vm, capabilities, deps.cloud, lease);
    else if (decision.op) await deps.cloud.verb(decision.op, req.vmId, undefined, { signal: lease.signal });
    const now = deps.clock.now();
    const record = lifecycleAfter(decision, now, req.by, deps.scrubGraceMs);
    const { [req.vmId]: _old, ...others } = state.lifecycle ?? {};
    const lifecycle = record ? { ...others, [req.vmId]: record } : others;
    const event: PresetEvent = {
      at: new Date(now).toISOString(),
      type: 'verb',
      vm: req.vmId,
      reason: `${req.verb} by ${req.by}: ${from} → ${decision.transition.to}${op ? ` (${op})` : ''}`,
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
    await deps.runtime.save(req.preset.name, next, lease.current);
    deps.logger.info({ vm: req.vmId, verb: req.verb, by: req.by, fence: lease.token }, event.reason);
  } finally {
    await lease.release();
  }
}

/**
 * An operator's update: the VM brought to the current spec by the verbs its differing fields require,
 * then recorded; refused when a field cannot change in place. Returns what was done (null: nothing was
 * outdated).
 */
async function updateInPlace(
  req: VerbRequest,
  vm: Vm,
  capabilities: ReadonlySet<IaasCapability>,
  cloud: Cloud,
  lease: LeaseKeeper,
): Promise<string | null> {
  if (vm.metadata[META_SPEC] === req.preset.specHash && !vm.resizeUnconfirmed) return null;
  const fields = inPlaceFieldsOf(capabilities, cloud.inPlaceFields);
  const work = inPlaceWork(req.preset, vm, fields, capabilities.has('setMetadata'));
  if (work.kind === 'replace')
    throw new ShepherdError('reconcile_update_1001', `update of ${vm.id}: ${work.reason}`, {
      details: { verb: 'update', fields: work.fields.join(',') },
    });
  const steps = work.kind === 'update' ? work.steps : [];
  await bringToSpec(cloud, vm.id, steps, vm.metadata[META_PARTS], req.preset, vmSpec(req.preset), lease);
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
