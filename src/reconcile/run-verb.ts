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
import { admitVerb } from './admit-verb.js';
import { bringToSpec, type Cloud, capabilitiesOf } from './apply.js';
import { classify } from './classify.js';
import { type DisruptionBudget, disruptionBudget } from './disruption-budget.js';
import { healthOfSnapshots } from './health.js';
import { type InPlaceWork, inPlaceFieldsOf, inPlaceWork, opName } from './in-place.js';
import { LeaseKeeper } from './lease-keeper.js';
import { leaseKey } from './manage-preset.js';
import { membersOf, verbsInFlight } from './observe.js';
import { vmSpec } from './spec.js';
import { type PresetEvent, type PresetState, parseState, type VerbWait } from './state.js';
import { decideVerb, type Lifecycle, lifecycleAfter, type VerbName } from './verbs.js';

export interface VerbRequest {
  preset: Preset;
  vmId: string;
  verb: VerbName;
  /** Who asked (token name, `cli`...), recorded in the event. */
  by: string;
}

export interface VerbDeps {
  /** How long a verb that takes a VM out of service waits for the disruption budget, and how often it looks. */
  budgetWaitMs?: number;
  budgetPollMs?: number;
  /** Aborted when the daemon stops: a verb waiting for the budget gives up. */
  stopping?: AbortSignal;
  /** Told when the verb starts waiting for the budget (the reason) and when it stops waiting (null). */
  onWaiting?: (reason: string | null) => void;
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
 * event and the lease's fencing token. A verb that takes a ready VM out of service waits, lease released,
 * until the preset's disruption budget has room (admit-verb.ts); it is recorded as waiting in the preset's
 * state meanwhile, and fails with vm_verb_2002 when the wait ends first.
 */
export async function runVerb(req: VerbRequest, deps: VerbDeps): Promise<void> {
  const started = deps.clock.now();
  const until = started + (deps.budgetWaitMs ?? DEFAULT_BUDGET_WAIT_MS);
  let waiting: string | null = null;
  for (;;) {
    let outcome: 'done' | { wait: string };
    try {
      outcome = await attempt(req, deps, waiting, until);
    } catch (err) {
      if (waiting !== null) {
        deps.onWaiting?.(null);
        await clearWait(req, deps).catch(() => undefined);
      }
      throw err;
    }
    if (outcome === 'done') {
      if (waiting !== null) deps.onWaiting?.(null);
      return;
    }
    if (outcome.wait !== waiting) deps.onWaiting?.(outcome.wait);
    waiting = outcome.wait;
    const stopped = deps.stopping?.aborted === true;
    if (stopped || deps.clock.now() >= until) {
      deps.onWaiting?.(null);
      await clearWait(req, deps).catch(() => undefined);
      const waited = Math.round((deps.clock.now() - started) / 1000);
      throw new ShepherdError(
        'vm_verb_2002',
        `${req.verb} of ${req.vmId} waited ${waited}s${stopped ? ' until the daemon stopped' : ''}; ${waiting}`,
        { details: { verb: req.verb, vm: req.vmId } },
      );
    }
    await deps.clock.sleep(deps.budgetPollMs ?? DEFAULT_BUDGET_POLL_MS, deps.stopping).catch(() => undefined);
  }
}

const DEFAULT_BUDGET_WAIT_MS = 1_800_000;
const DEFAULT_BUDGET_POLL_MS = 1000;

/** One try under the lease: the verb done, or the reason it waits (recorded once, when it starts waiting). */
async function attempt(
  req: VerbRequest,
  deps: VerbDeps,
  waitingBefore: string | null,
  until: number,
): Promise<'done' | { wait: string }> {
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
    const work = decision.op === 'update' ? updateWork(req, vm, capabilities, deps.cloud) : null;
    const admission = admitVerb(
      takesOut(decision.op, from, work),
      ...(await budgetFor(req.preset, state, vm, deps.cloud, deps.clock.now(), lease.signal)),
    );
    if (!admission.admit) {
      if (admission.reason !== waitingBefore)
        await saveWait(req, deps, state, lease, admission.reason, until, waitingBefore === null);
      return { wait: admission.reason };
    }
    lease.assertValid();
    let op: string | null = decision.op;
    if (decision.op === 'update') op = await updateInPlace(req, vm, work, deps.cloud, lease);
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
    const { lifecycle: _l, waiting: _w, ...rest } = state;
    const waiting = withoutWait(state.waiting, req.vmId);
    const next: PresetState = {
      ...rest,
      // Saved after a cloud call: a listing taken before it must not be used by the next manage.
      lastSavedAt: now,
      events: [...state.events, event].slice(-deps.eventsKept),
      ...(Object.keys(lifecycle).length > 0 ? { lifecycle } : {}),
      ...(waiting ? { waiting } : {}),
    };
    lease.assertValid();
    await deps.runtime.save(req.preset.name, next, lease.current);
    deps.logger.info({ vm: req.vmId, verb: req.verb, by: req.by, fence: lease.token }, event.reason);
    return 'done';
  } finally {
    await lease.release();
  }
}

/** Whether the verb's cloud operation takes a VM in service out of it (a stop, a reboot, a disruptive update). */
function takesOut(op: IaasCapability | 'update' | null, from: Lifecycle, work: InPlaceWork | null): boolean {
  if (from !== 'active') return false;
  if (op === 'stop' || op === 'reboot') return true;
  return op === 'update' && work?.kind === 'update' && work.disruptive;
}

/** Whether the VM is ready, and the preset's disruption budget, from a listing taken now. */
async function budgetFor(
  preset: Preset,
  state: PresetState,
  vm: Vm,
  cloud: Cloud,
  now: number,
  signal: AbortSignal,
): Promise<[boolean, DisruptionBudget]> {
  const vms = membersOf(preset, await cloud.list(preset.name, { signal }));
  const health = healthOfSnapshots(state.vms);
  const classified = classify(preset, vms, health, now, state.lifecycle, state.deleting);
  const self = classified.find((c) => c.vm.id === vm.id);
  return [self?.ready ?? false, disruptionBudget(preset, classified, { verbs: verbsInFlight(state) })];
}

/** Records that the verb waits (an event the first time, the entry in the preset's state each time the reason changes). */
async function saveWait(
  req: VerbRequest,
  deps: VerbDeps,
  state: PresetState,
  lease: LeaseKeeper,
  reason: string,
  until: number,
  first: boolean,
): Promise<void> {
  const now = deps.clock.now();
  const wait: VerbWait = {
    verb: req.verb,
    by: req.by,
    since: state.waiting?.[req.vmId]?.since ?? now,
    until,
    reason,
  };
  const event: PresetEvent = {
    at: new Date(now).toISOString(),
    type: 'verb_waiting',
    vm: req.vmId,
    reason: `${req.verb} by ${req.by} ${reason}`,
    code: 'vm_verb_2002',
    token: lease.token,
    instance: deps.instanceId,
  };
  const next: PresetState = {
    ...state,
    ...(first ? { events: [...state.events, event].slice(-deps.eventsKept) } : {}),
    waiting: { ...state.waiting, [req.vmId]: wait },
  };
  lease.assertValid();
  await deps.runtime.save(req.preset.name, next, lease.current);
  if (first) deps.logger.info({ vm: req.vmId, verb: req.verb, by: req.by, fence: lease.token }, event.reason);
}

/** Drops the verb's waiting entry (it gave up). */
async function clearWait(req: VerbRequest, deps: VerbDeps): Promise<void> {
  const lease = await acquireWaiting(req.preset, deps);
  try {
    const state = parseState(await deps.runtime.load(req.preset.name));
    if (!state.waiting?.[req.vmId]) return;
    const { waiting: _w, ...rest } = state;
    const waiting = withoutWait(state.waiting, req.vmId);
    lease.assertValid();
    await deps.runtime.save(req.preset.name, { ...rest, ...(waiting ? { waiting } : {}) }, lease.current);
  } finally {
    await lease.release();
  }
}

function withoutWait(
  waiting: Record<string, VerbWait> | undefined,
  vmId: string,
): Record<string, VerbWait> | undefined {
  if (!waiting) return undefined;
  const { [vmId]: _gone, ...rest } = waiting;
  return Object.keys(rest).length > 0 ? rest : undefined;
}

/** The in-place work of an operator's update (null: nothing is outdated). */
function updateWork(
  req: VerbRequest,
  vm: Vm,
  capabilities: ReadonlySet<IaasCapability>,
  cloud: Cloud,
): InPlaceWork | null {
  if (vm.metadata[META_SPEC] === req.preset.specHash && !vm.resizeUnconfirmed) return null;
  const fields = inPlaceFieldsOf(capabilities, cloud.inPlaceFields);
  return inPlaceWork(req.preset, vm, fields, capabilities.has('setMetadata'));
}

/**
 * An operator's update: the VM brought to the current spec by the verbs its differing fields require,
 * then recorded; refused when a field cannot change in place. Returns what was done (null: nothing was
 * outdated).
 */
async function updateInPlace(
  req: VerbRequest,
  vm: Vm,
  work: InPlaceWork | null,
  cloud: Cloud,
  lease: LeaseKeeper,
): Promise<string | null> {
  if (work === null) return null;
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
