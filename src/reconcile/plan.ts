import { META_PRESET } from '../drivers/types.js';
import { type Preset, resolveCountOrPercent } from '../presets/preset.js';
import { type ClassifiedVm, DOOMED, HELD, type VmClass } from './classify.js';
import { type BudgetHolder, disruptionBudget } from './disruption-budget.js';
import { fleetGuard } from './fleet-guard.js';
import { pacedCreates } from './group-pacing.js';
import { type InPlaceWork, inPlaceFieldsOf, inPlaceWork } from './in-place.js';
import { healthVictims, massDeletionGuard, ownCounts, remedyFor } from './plan-health.js';
import { planUpdates, replaceReason } from './plan-in-place.js';
import type {
  GuardVerdict,
  InPlaceUpdate,
  Plan,
  PlanContext,
  PlanZones,
  Remedy,
  Termination,
} from './plan-types.js';
import { scaleInOrder, takeInOrder, takeWithinBudget } from './plan-victims.js';
import { everywhereFull, zonePlan } from './plan-zones.js';
import { quarantineSplit } from './quarantine.js';
import type { RolloutState } from './state.js';

export { guardHolding, massDeletionGuard } from './plan-health.js';
export { scaleInOrder } from './plan-victims.js';

import { spreadScaleInOrder } from './zone-spread.js';

export type {
  GuardVerdict,
  InPlaceUpdate,
  Plan,
  PlanBudget,
  PlanContext,
  PlanZones,
  Remedy,
  RolloutVerdict,
  Termination,
} from './plan-types.js';

const NO_CONTEXT: PlanContext = { now: 0, capabilities: new Set() };

/** Alive but not counted towards `count`. */
const NOT_SERVING: ReadonlySet<VmClass> = new Set(['expiring', 'scrubbing', 'quarantined']);
/** Existing but not held to the ceiling. */
const EXEMPT: ReadonlySet<VmClass> = new Set(['scrubbing', 'quarantined', 'deleting']);

/**
 * The decision of one manage, a pure function of the preset, its classified VMs and the context:
 * 1. terminate dead, expired and stuck VMs;
 * 2. remedy unhealthy ones (reboot, rebuild or replace, by the ladder) unless the mass-deletion guard holds;
 * 3. roll outdated VMs to the current spec under max_surge / max_unavailable, or scale in surplus;
 * 4. create what is missing (and the rollout's surge), never above count + max_surge VMs in all, unless
 *    a backoff window holds creation.
 * Every ready VM taken out (an outdated one retired or updated in place, a surplus one scaled in) draws
 * from the one disruption budget (disruption-budget.ts), which also counts the VMs an operator's verb
 * holds (quiesced, scrubbing, restarting) and those being remedied. Healing a dead VM and remedying an
 * unhealthy one are not held back by it: such a VM serves nothing already (the guards limit how many at
 * once); they are counted, so the others wait while they last.
 */
export function plan(preset: Preset, vms: readonly ClassifiedVm[], ctx: PlanContext = NO_CONTEXT): Plan {
  const heal = healing(preset, vms, ctx);
  const roll = rolloutOf(preset, vms, heal, ctx);
  const w: PlanWork = {
    terminate: heal.terminate,
    serving: heal.serving,
    budget: roll.budget,
    spent: [],
    update: [],
  };
  if (w.serving.length > preset.count && !roll.inPlace) scaleIn(preset, roll, w);
  if (roll.rolling && !roll.inPlace) replaceOutdated(preset, roll, w);
  const availabilityRoom = w.budget > 0;
  if (roll.works.size > 0)
    planUpdates(
      w.serving.filter((v) => !roll.waitedFor(v)),
      roll.works,
      w.budget,
      w.update,
      w.spent,
    );
  for (const t of w.terminate)
    if (t.class === 'outdated') t.data = { ready: roll.ready, min_ready: roll.minReady };
  const creates = createsOf(preset, vms, ctx, heal, roll, w, availabilityRoom);
  return {
    adopt: heal.alive.filter((v) => v.vm.metadata[META_PRESET] === undefined).map((v) => v.vm.id),
    terminate: w.terminate,
    update: w.update,
    remedy: heal.remedy,
    quarantine: heal.quarantine,
    create: creates.create,
    createReason: creates.reason,
    createBlocked: creates.block,
    guard: heal.guard,
    rollout: {
      outdated: roll.outdated.length,
      active: roll.active,
      paused: roll.paused,
      ready: roll.ready,
      minReady: roll.minReady,
      ...(roll.rolling && preset.update.strategy === 'in_place' && !roll.inPlace
        ? { fallback: 'replace' as const }
        : {}),
    },
    serving: w.serving.length,
    ceiling: roll.ceiling,
    exempt: vms.filter((v) => EXEMPT.has(v.class)).length + heal.quarantine.length,
    budget: { ...roll.before, spent: w.spent },
    ...(creates.zones ? { zones: creates.zones } : {}),
  };
}

/** What the plan takes out and keeps as it goes: terminations, in-place updates, the budget left. */
interface PlanWork {
  terminate: Termination[];
  serving: ClassifiedVm[];
  budget: number;
  spent: BudgetHolder[];
  update: InPlaceUpdate[];
}

/** Stage 1 and 2: dead, expired and stuck VMs go; unhealthy ones are remedied or replaced. */
function healing(preset: Preset, vms: readonly ClassifiedVm[], ctx: PlanContext) {
  const terminate: Termination[] = vms.filter((v) => DOOMED.has(v.class)).map((v) => termination(v, v.class));
  // VMs being deleted are neither counted, checked, nor deleted again: they are gone but for the listing.
  const alive = vms.filter((v) => !DOOMED.has(v.class) && v.class !== 'deleting');
  const checked = alive.filter((v) => !HELD.has(v.class));
  const guard: GuardVerdict = massDeletionGuard(preset, checked);
  if (ctx.fleet) guard.fleet = fleetGuard(ctx.fleet.others, ownCounts(checked), ctx.fleet.maxUnhealthy);
  const remedy: Remedy[] = [];
  const replaced: ClassifiedVm[] = [];
  for (const v of healthVictims(alive, guard)) {
    const step = remedyFor(preset, v, ctx.capabilities);
    if (step) remedy.push(step);
    else replaced.push(v);
  }
  // Replaced VMs go to quarantine (stopped and kept) while it has room, the others are deleted.
  const policy = preset.healthcheck?.policy.quarantine;
  const split = quarantineSplit(policy, alive, replaced, ctx.capabilities, ctx.now, ctx.stopFailures);
  const why = (v: ClassifiedVm) => split.notes.get(v.vm.id) ?? v.reason;
  for (const v of split.terminate) terminate.push(termination(v, 'unhealthy', why(v)));
  const out = new Set([...terminate.map((t) => t.vmId), ...split.quarantine.map((q) => q.vmId)]);
  // Expiring VMs still serve until their time, but are not counted: their replacements are (within the
  // surge). Scrubbing and quarantined VMs are on their way out: neither counted nor in the way of their
  // replacements. Quiesced VMs count, as their owner asked.
  const serving = alive.filter((v) => !NOT_SERVING.has(v.class) && !out.has(v.vm.id));
  const expiring = alive.filter((v) => v.class === 'expiring').length;
  return { terminate, remedy, quarantine: split.quarantine, guard, alive, serving, expiring };
}

type Healing = ReturnType<typeof healing>;

/** The rollout's standing: what is outdated, how each outdated VM is brought to spec, and the budget. */
function rolloutOf(preset: Preset, vms: readonly ClassifiedVm[], heal: Healing, ctx: PlanContext) {
  const { serving, alive } = heal;
  const count = preset.count;
  const ceiling = count + resolveCountOrPercent(preset.update.maxSurge, count, 'up');
  // One budget: a quiesced VM counts towards `count` but is out of service, so it holds a share of
  // max_unavailable like any other disruption (it used to be taken off the least kept ready).
  const before = disruptionBudget(preset, vms, ctx.budgetHints);
  const minReady = Math.max(0, count - before.limit);
  const ready = serving.filter((v) => v.ready).length;
  const outdated = serving.filter((v) => v.outdated);
  const paused = rolloutPause(preset, vms, outdated.length, ctx.rollout);
  const active = outdated.length > 0 && preset.update.strategy !== 'on_delete';
  const rolling = active && paused === null;
  // In place, each outdated VM is updated as its differing fields allow, or replaced when one cannot be.
  const works = new Map<string, InPlaceWork>();
  if (rolling && preset.update.strategy === 'in_place') {
    const fields = inPlaceFieldsOf(ctx.capabilities, ctx.inPlaceFields);
    const canRecord = ctx.capabilities.has('setMetadata');
    for (const v of outdated) works.set(v.vm.id, inPlaceWork(preset, v.vm, fields, canRecord));
  }
  // A VM an operator's verb waits for is left to it: neither retired, updated nor scaled in meanwhile.
  const waitedFor = (v: ClassifiedVm) => ctx.verbsWaiting?.has(v.vm.id) === true;
  const replaced = (v: ClassifiedVm) =>
    v.outdated && (preset.update.strategy !== 'in_place' || works.get(v.vm.id)?.kind === 'replace');
  const toReplace = outdated.filter(replaced);
  const inPlace = rolling && preset.update.strategy === 'in_place' && toReplace.length === 0;
  // An operator's verb waiting for the budget goes first: the room its VM needs is not spent here.
  const reserved = ctx.verbsWaiting?.size
    ? alive.filter((v) => v.ready && ctx.verbsWaiting?.has(v.vm.id)).length
    : 0;
  const budget = Math.max(0, before.room - reserved);
  return {
    ceiling,
    before,
    minReady,
    ready,
    outdated,
    paused,
    active,
    rolling,
    works,
    waitedFor,
    replaced,
    toReplace,
    inPlace,
    budget,
  };
}

type Rollout = ReturnType<typeof rolloutOf>;

/**
 * Stage 3, surplus: during a rollout only outdated VMs go, and a ready one only while availability allows
 * (in place, the surge VM stays until every VM is updated); otherwise by scale_in_order.
 */
function scaleIn(preset: Preset, roll: Rollout, w: PlanWork): void {
  const count = preset.count;
  const spreading = preset.zones.length > 1;
  // Spread over zones: scale-in takes from the zone with the most VMs.
  const spread = (ordered: ClassifiedVm[]) =>
    spreading ? spreadScaleInOrder(ordered, (v) => v.vm, preset.zones) : ordered;
  const victims =
    roll.rolling && roll.toReplace.length > 0
      ? takeWithinBudget(
          roll.toReplace.filter((v) => !roll.waitedFor(v)),
          w.serving.length - count,
          w.budget,
        )
      : takeInOrder(
          spread(
            scaleInOrder(
              w.serving.filter((v) => !roll.waitedFor(v)),
              preset.scaleInOrder,
            ),
          ),
          w.serving.length - count,
          w.budget,
        );
  w.budget -= victims.filter((v) => v.ready).length;
  for (const v of victims) {
    const cls = v.outdated && roll.rolling ? 'outdated' : 'surplus';
    w.terminate.push(termination(v, cls, `count is ${count}`));
    if (v.ready)
      w.spent.push(cls === 'outdated' ? rolloutHolder(v.vm.id, 'replace') : scaleInHolder(v.vm.id));
  }
  const gone = new Set(victims.map((v) => v.vm.id));
  w.serving = w.serving.filter((v) => !gone.has(v.vm.id));
}

/** Stage 3, rollout: replacing spends what max_unavailable allows; outdated VMs go before their replacements. */
function replaceOutdated(preset: Preset, roll: Rollout, w: PlanWork): void {
  const more = takeWithinBudget(
    w.serving.filter((v) => roll.replaced(v) && !roll.waitedFor(v)),
    Number.POSITIVE_INFINITY,
    w.budget,
  );
  w.budget -= more.filter((v) => v.ready).length;
  for (const v of more) {
    w.terminate.push(termination(v, 'outdated', replaceReason(preset, roll.works.get(v.vm.id))));
    if (v.ready) w.spent.push(rolloutHolder(v.vm.id, 'replace'));
  }
  const gone = new Set(more.map((v) => v.vm.id));
  w.serving = w.serving.filter((v) => !gone.has(v.vm.id));
}

/**
 * Stage 4: what is missing and the rollout's surge, within the ceiling, spread over zones, unless a
 * backoff window or full capacity holds creation.
 */
function createsOf(
  preset: Preset,
  vms: readonly ClassifiedVm[],
  ctx: PlanContext,
  heal: Healing,
  roll: Rollout,
  w: PlanWork,
  availabilityRoom: boolean,
) {
  const count = preset.count;
  const missing = Math.max(0, count - w.serving.length);
  // A rollout adds new VMs beyond count (the surge) until every outdated one has a replacement. In place,
  // a spare VM is only needed for disruptive updates while no VM may be taken down (max_unavailable reached).
  const needsSpare = (v: ClassifiedVm) => {
    if (!v.outdated) return false;
    const work = roll.works.get(v.vm.id);
    if (!work || work.kind === 'replace') return true;
    // Updating a VM that is not ready (mid-resize, say) takes nothing away: no spare for it.
    return work.kind === 'update' && work.disruptive && !availabilityRoom && v.ready;
  };
  const current = w.serving.filter((v) => !needsSpare(v)).length;
  const surge = roll.rolling ? Math.max(0, count - current - missing) : 0;
  const room = Math.max(0, roll.ceiling - w.serving.length - heal.expiring);
  let create = pacedCreates(preset, Math.min(missing + surge, room), vms, w.terminate.length);
  let reason = createReason(w.serving.length, count, heal.expiring, surge);
  let zones: PlanZones | undefined;
  if (preset.zones.length > 1) {
    const spread = zonePlan(preset, ctx, w.serving, create, roll.active, room);
    zones = spread.zones;
    if (spread.rebalance) {
      create = 1;
      reason = spread.rebalance;
    }
  }
  const block =
    create > 0
      ? ctx.createBlock && ctx.createBlock.until > ctx.now
        ? ctx.createBlock
        : everywhereFull(preset, ctx)
      : null;
  if (block) {
    create = 0;
    if (zones) zones.creates = [];
  }
  return { create, reason, zones, block };
}

const rolloutHolder = (vm: string, what: string): BudgetHolder => ({ vm, user: 'rollout', what });
const scaleInHolder = (vm: string): BudgetHolder => ({ vm, user: 'scale-in', what: 'surplus' });

function termination(v: ClassifiedVm, cls: Termination['class'], reason = v.reason): Termination {
  return { vmId: v.vm.id, class: cls, reason };
}

function createReason(serving: number, count: number, expiring: number, surge: number): string {
  if (serving >= count && surge === 0) return '';
  const parts = [`${serving} of ${count} VMs`];
  if (expiring) parts.push(`${expiring} expiring`);
  if (surge) parts.push(`${surge} to replace outdated VMs`);
  return parts.join(', ');
}

/**
 * A rollout stands still when a VM of the new spec fails its checks, dies or does not boot while outdated
 * VMs remain: replacing more VMs with a broken spec would only loop. It stays paused for this spec until
 * the spec changes again or an operator resumes it.
 */
function rolloutPause(
  preset: Preset,
  vms: readonly ClassifiedVm[],
  outdated: number,
  state: RolloutState | undefined,
): string | null {
  if (state?.spec === preset.specHash && state.paused) return state.paused.reason;
  if (outdated === 0) return null;
  const threshold = preset.healthcheck?.policy.unhealthyThreshold ?? Number.POSITIVE_INFINITY;
  const failed = vms.find(
    (v) =>
      !v.outdated &&
      (v.class === 'dead' ||
        v.class === 'stuck' ||
        v.class === 'unhealthy' ||
        (v.health?.failures ?? 0) >= threshold),
  );
  return failed ? `${failed.vm.id} of spec ${preset.specHash} is ${failed.class}: ${failed.reason}` : null;
}

/**
 * Creates allowed after the terminations ran: VMs whose termination failed still exist (and usually
 * still hold quota), so they take room under the ceiling.
 */
export function createBudget(p: Plan, existingAfterTerminations: number): number {
  return Math.max(0, Math.min(p.create, p.ceiling - (existingAfterTerminations - p.exempt)));
}
