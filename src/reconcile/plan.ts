import type { CountOrPercent } from '../config/preset-schema.js';
import { type IaasCapability, META_PARTS, META_PRESET, META_SPEC, type SpecField } from '../drivers/types.js';
import { type Preset, resolveCountOrPercent } from '../presets/preset.js';
import type { CreateBlock } from './backoff.js';
import { type CapacitySkips, fixedZone, fullZones, skipsCapacity } from './capacity-skips.js';
import { type ClassifiedVm, DOOMED, HELD, type VmClass } from './classify.js';
import {
  type BudgetHints,
  type BudgetHolder,
  type DisruptionBudget,
  disruptionBudget,
} from './disruption-budget.js';
import { type FleetCounts, type FleetGuardVerdict, fleetGuard } from './fleet-guard.js';
import { pacedCreates } from './group-pacing.js';
import { type InPlaceStep, type InPlaceWork, inPlaceFieldsOf, inPlaceWork, opName } from './in-place.js';
import type { RolloutState } from './state.js';
import { imbalance, spreadScaleInOrder, zoneCounts, zonesForCreates } from './zone-spread.js';

export interface Termination {
  vmId: string;
  class: VmClass | 'surplus' | 'outdated';
  reason: string;
  /** Facts recorded with the event (an outdated VM: the ready VMs before it went, and the least kept). */
  data?: Record<string, number>;
}

/** An outdated VM brought to the current spec in place (`update.strategy: in_place`). */
export interface InPlaceUpdate {
  vmId: string;
  /** `resize`, `rebuild`, `resize+rebuild`, ... or `record` (no cloud call but the record). */
  op: string;
  /** The verbs in order, each with the fields that require it; empty when only the record differs. */
  steps: InPlaceStep[];
  /** The VM's spec hash before, and the fingerprints it records (kept when a later step fails). */
  from: string;
  recorded?: string;
  reason: string;
}

/** A step of the remediation ladder other than replacement. */
export interface Remedy {
  vmId: string;
  action: 'reboot' | 'rebuild';
  /** Index of this step in `healthcheck.remedy`. */
  step: number;
  reason: string;
}

export interface GuardVerdict {
  /** More of the preset's VMs fail than `max_unhealthy` allows: they are replaced one at a time. */
  active: boolean;
  failing: number;
  total: number;
  /** Most VMs that may fail at once before the guard slows health replacements to one at a time. */
  limit: number;
  /** The fleet-wide guard, when this instance counts its fleet: while active, nothing goes for health. */
  fleet?: FleetGuardVerdict;
}

export interface RolloutVerdict {
  /** VMs still built from an older spec. */
  outdated: number;
  /** Outdated VMs exist and the strategy replaces them (not `on_delete`). */
  active: boolean;
  /** Why the rollout stands still (a new VM failed), or null. */
  paused: string | null;
  /** Ready VMs now, and the least the rollout keeps: count - max_unavailable. */
  ready: number;
  minReady: number;
  /** `in_place` asked, but some outdated VMs are replaced: a field of theirs cannot change in place. */
  fallback?: 'replace';
}

/** What the last manages decided about a rollout, kept in the preset's runtime state. */
export interface PlanContext {
  now: number;
  /** Optional verbs the preset's cloud offers (reboot, rebuild, resize...). */
  capabilities: ReadonlySet<IaasCapability>;
  /** The spec fields the driver declares it changes in place (default: those whose verb it has). */
  inPlaceFields?: readonly SpecField[] | undefined;
  rollout?: RolloutState | undefined;
  /** A create backoff window in force (see backoff.ts). */
  createBlock?: CreateBlock | null;
  /** This instance's other presets' health, and how many of all checked VMs may fail at once. */
  fleet?: { others: FleetCounts; maxUnhealthy: CountOrPercent } | undefined;
  /** What the classification cannot tell the disruption budget (the last verb run on a VM). */
  budgetHints?: BudgetHints | undefined;
  /** VMs an operator's verb waits to take out (state.waiting): the room they need is kept for them. */
  verbsWaiting?: ReadonlySet<string> | undefined;
  /** Flavors found without capacity per zone (state.capacity and this listing's failed VMs). */
  capacity?: CapacitySkips | undefined;
}

/** Where the VMs of a preset spread over zones are, and where its creates go. */
export interface PlanZones {
  /** Serving VMs per zone after this plan's terminations. */
  counts: Record<string, number>;
  /** Zones skipped now (no capacity lately): no create goes there. */
  skipped: string[];
  /** The zone of each create, in order (the first ones are used when fewer creates can be made). */
  creates: string[];
  /**
   * The spread is uneven and steady: this plan's create is a move, a new VM in `to` (only there: when `to`
   * has no room after all, nothing is created), and scale-in then takes one from `from`.
   */
  rebalance?: { from: string; to: string };
}

/** The disruption budget before this plan, and the ready VMs this plan takes out of it. */
export interface PlanBudget extends DisruptionBudget {
  spent: BudgetHolder[];
}

export interface Plan {
  /** VMs named after the preset without vmshepherd's metadata (the original's): membership is written. */
  adopt: string[];
  terminate: Termination[];
  update: InPlaceUpdate[];
  remedy: Remedy[];
  /** VMs to create when every termination succeeds; see createBudget for the cap when some fail. */
  create: number;
  createReason: string;
  /** Creates that were due but wait for a backoff window. */
  createBlocked: CreateBlock | null;
  guard: GuardVerdict;
  rollout: RolloutVerdict;
  /** VMs that count towards `count` after the plan (running, pending, unknown, kept unhealthy). */
  serving: number;
  /** Most VMs that may exist at once: count + max_surge (scrubbing VMs aside). */
  ceiling: number;
  /** VMs that exist but are not held to the ceiling (scrubbing or being deleted: on their way out). */
  exempt: number;
  budget: PlanBudget;
  /** Set for a preset spread over two or more zones. */
  zones?: PlanZones;
}

const NO_CONTEXT: PlanContext = { now: 0, capabilities: new Set() };

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
    exempt: vms.filter((v) => v.class === 'scrubbing' || v.class === 'deleting').length,
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
  for (const v of healthVictims(alive, guard)) {
    const step = remedyFor(preset, v, ctx.capabilities);
    if (step) remedy.push(step);
    else terminate.push(termination(v, 'unhealthy'));
  }
  const terminated = new Set(terminate.map((t) => t.vmId));
  // Expiring VMs still serve until their time, but are not counted: their replacements are (within the
  // surge). Scrubbing VMs are on their way out at an operator's word: neither counted nor in the way of
  // their replacements. Quiesced VMs count, as their owner asked.
  const serving = alive.filter(
    (v) => v.class !== 'expiring' && v.class !== 'scrubbing' && !terminated.has(v.vm.id),
  );
  const expiring = alive.filter((v) => v.class === 'expiring').length;
  return { terminate, remedy, guard, alive, serving, expiring };
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

/**
 * Creates go to the zone with the fewest VMs. Rebalancing (a zone came back, or the list grew) moves one
 * VM at a time, and only in a steady preset: a new VM first (within max_surge), then scale-in takes the
 * surplus from the fullest zone once the new one is ready (within max_unavailable).
 */
function zonePlan(
  preset: Preset,
  ctx: PlanContext,
  serving: readonly ClassifiedVm[],
  create: number,
  active: boolean,
  room: number,
): { zones: PlanZones; rebalance?: string } {
  const counts = zoneCounts(
    preset.zones,
    serving.map((v) => v.vm),
  );
  const skipped = fullZones(preset.zones, preset.flavors, ctx.capacity ?? [], ctx.now);
  const uneven = imbalance(preset.zones, counts, skipped);
  const steady =
    create === 0 && !active && serving.length === preset.count && serving.every((v) => v.class !== 'pending');
  const moving = uneven && steady && room > 0;
  const creates = moving ? 1 : create;
  return {
    zones: {
      counts,
      skipped,
      creates: zonesForCreates(preset.zones, counts, skipped, creates),
      ...(moving ? { rebalance: uneven } : {}),
    },
    ...(moving
      ? {
          rebalance: `rebalance: ${uneven.from} has ${counts[uneven.from]} VMs, ${uneven.to} ${counts[uneven.to]}`,
        }
      : {}),
  };
}

/**
 * With fallbacks (a flavor list or a zone spread) or a server group, creates wait while every flavor is full
 * in every zone: until the first of those skips ends.
 */
function everywhereFull(preset: Preset, ctx: PlanContext): CreateBlock | null {
  const skips = ctx.capacity;
  if (!skips?.length || !skipsCapacity(preset)) return null;
  const zones = preset.zones.length > 1 ? preset.zones : [fixedZone(preset)];
  if (fullZones(zones, preset.flavors, skips, ctx.now).length < zones.length) return null;
  const live = skips.filter((s) => s.until > ctx.now);
  const first = live.reduce((a, b) => (b.until < a.until ? b : a));
  return {
    key: 'capacity:everywhere',
    failures: live.length,
    until: first.until,
    code: first.code ?? 'reconcile_create_0001',
    reason: `no capacity for any flavor of the list in any zone; first: ${first.reason}`,
  };
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

/** Unready VMs first (taking them down costs no availability), then ready ones while the budget lasts. */
function takeWithinBudget(vms: readonly ClassifiedVm[], n: number, budget: number): ClassifiedVm[] {
  const taken = vms.filter((v) => !v.ready).slice(0, n);
  for (const v of vms) {
    if (taken.length >= n || budget <= 0) break;
    if (!v.ready) continue;
    taken.push(v);
    budget--;
  }
  return taken;
}

/**
 * The first `n` VMs in order, stopping at a ready one once the budget is spent: scaling in must not take
 * a ready VM while others are unavailable beyond max_unavailable (at the end of an in-place rollout the
 * spare VM becomes surplus while the last VMs may still be rebuilding), and must not skip ahead to a VM
 * that is only on its way back (being rebuilt, or restored by an operator): the surplus waits for it.
 * In the steady state every VM is ready and the budget covers the whole surplus.
 */
function takeInOrder(vms: readonly ClassifiedVm[], n: number, budget: number): ClassifiedVm[] {
  const taken: ClassifiedVm[] = [];
  for (const v of vms) {
    if (taken.length >= n) break;
    if (v.ready) {
      if (budget <= 0) break;
      budget--;
    }
    taken.push(v);
  }
  return taken;
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

/** The remedy step for an unhealthy VM, or null when it is replaced (last step, or the cloud cannot do it). */
function remedyFor(
  preset: Preset,
  v: ClassifiedVm,
  capabilities: ReadonlySet<IaasCapability>,
): Remedy | null {
  const steps = preset.healthcheck?.policy.remedies ?? ['replace'];
  const index = Math.min(v.health?.remedied ?? 0, steps.length - 1);
  const action = steps[index];
  if ((action === 'reboot' || action === 'rebuild') && capabilities.has(action)) {
    return { vmId: v.vm.id, action, step: index, reason: v.reason };
  }
  return null;
}

/**
 * In-place updates of the outdated VMs that stay: a VM whose fields are right already only gets its record
 * (every one, at no cost); disruptive ones take unready VMs first, then ready ones while the budget lasts.
 * A VM already changing (rebuilding, resizing) is not picked again, unless a resize awaits its confirmation.
 */
function planUpdates(
  serving: readonly ClassifiedVm[],
  works: ReadonlyMap<string, InPlaceWork>,
  budget: number,
  out: InPlaceUpdate[],
  spent: BudgetHolder[],
): void {
  const candidates = serving.filter(
    (v) => v.outdated && (v.class === 'running' || v.vm.resizeUnconfirmed === true),
  );
  const disruptive: ClassifiedVm[] = [];
  for (const v of candidates) {
    const work = works.get(v.vm.id);
    if (work?.kind === 'record') out.push(inPlaceUpdate(v, []));
    else if (work?.kind === 'update' && !work.disruptive) out.push(inPlaceUpdate(v, work.steps));
    else if (work?.kind === 'update') disruptive.push(v);
  }
  for (const v of takeWithinBudget(disruptive, disruptive.length, budget)) {
    const work = works.get(v.vm.id);
    if (work?.kind !== 'update') continue;
    out.push(inPlaceUpdate(v, work.steps));
    if (v.ready) spent.push(rolloutHolder(v.vm.id, opName(work.steps)));
  }
}

function inPlaceUpdate(v: ClassifiedVm, steps: InPlaceStep[]): InPlaceUpdate {
  const from = v.vm.metadata[META_SPEC] ?? '?';
  const recorded = v.vm.metadata[META_PARTS];
  const why = steps.map((s) => `${s.verb} for ${s.fields.join(', ')}`).join('; ');
  return {
    vmId: v.vm.id,
    op: opName(steps),
    steps,
    from,
    ...(recorded ? { recorded } : {}),
    reason: steps.length === 0 ? `every field is at the spec: record it (was ${from})` : why,
  };
}

function replaceReason(preset: Preset, work: InPlaceWork | undefined): string {
  const why = work?.kind === 'replace' ? ` (${work.reason})` : '';
  return `spec ${preset.specHash} replaces it${why}`;
}

/**
 * The unhealthy VMs remedied or replaced now. Nothing while the fleet-wide guard holds (correlated
 * failure); while the preset's own guard is on, one at a time (the one failing longest, once no VM of the
 * preset is still booting), so that a small preset is always healed; otherwise all of them.
 */
function healthVictims(alive: readonly ClassifiedVm[], guard: GuardVerdict): ClassifiedVm[] {
  if (guard.fleet?.active) return [];
  const unhealthy = alive.filter((v) => v.class === 'unhealthy');
  if (!guard.active) return unhealthy;
  if (alive.some((v) => v.class === 'pending')) return [];
  const longest = [...unhealthy].sort(
    (a, b) => (a.health?.failingSince ?? 0) - (b.health?.failingSince ?? 0),
  )[0];
  return longest ? [longest] : [];
}

/** Which guard holds the preset's health replacements back, if any (the fleet's where it has failing VMs). */
export function guardHolding(g: GuardVerdict): 'fleet' | 'preset' | null {
  if (g.fleet?.active && g.failing > 0) return 'fleet';
  return g.active ? 'preset' : null;
}

function ownCounts(vms: readonly ClassifiedVm[]): FleetCounts {
  let checked = 0;
  let failing = 0;
  for (const v of vms) {
    if (!v.health || v.health.verdict === null) continue;
    checked++;
    if (v.failing) failing++;
  }
  return { checked, failing };
}

/**
 * When more of a preset's VMs fail their checks at once than `max_unhealthy` allows, the cause may be
 * the network or the check rather than the VMs: they are replaced one at a time (see healthVictims).
 */
export function massDeletionGuard(preset: Preset, alive: readonly ClassifiedVm[]): GuardVerdict {
  const total = alive.length;
  const failing = alive.filter((v) => v.failing).length;
  const limit = preset.healthcheck
    ? resolveCountOrPercent(preset.healthcheck.policy.maxUnhealthy, total)
    : total;
  return { active: failing > 0 && failing > limit, failing, total, limit };
}

/** Which surplus VMs go first: failing ones (for unhealthy_*), then by age. */
export function scaleInOrder(vms: readonly ClassifiedVm[], order: Preset['scaleInOrder']): ClassifiedVm[] {
  const newestFirst = order === 'unhealthy_newest' || order === 'newest';
  const failingFirst = order === 'unhealthy_newest' || order === 'unhealthy_oldest';
  return [...vms].sort((a, b) => {
    if (failingFirst && a.failing !== b.failing) return a.failing ? -1 : 1;
    const byAge = Date.parse(a.vm.createdAt) - Date.parse(b.vm.createdAt);
    return newestFirst ? -byAge : byAge;
  });
}

/**
 * Creates allowed after the terminations ran: VMs whose termination failed still exist (and usually
 * still hold quota), so they take room under the ceiling.
 */
export function createBudget(p: Plan, existingAfterTerminations: number): number {
  return Math.max(0, Math.min(p.create, p.ceiling - (existingAfterTerminations - p.exempt)));
}
