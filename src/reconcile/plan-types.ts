import type { CountOrPercent } from '../config/preset-schema.js';
import type { IaasCapability, SpecField } from '../drivers/types.js';
import type { CreateBlock } from './backoff.js';
import type { CapacitySkips } from './capacity-skips.js';
import type { VmClass } from './classify.js';
import type { BudgetHints, BudgetHolder, DisruptionBudget } from './disruption-budget.js';
import type { FleetCounts, FleetGuardVerdict } from './fleet-guard.js';
import type { InPlaceStep } from './in-place.js';
import type { Quarantine } from './quarantine.js';
import type { RolloutState } from './state.js';

// What a plan is made of (plan.ts decides them).

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
  /** Failed stops into quarantine per VM (docs/quarantine.md): after QUARANTINE_ATTEMPTS it is deleted. */
  stopFailures?: ReadonlyMap<string, number> | undefined;
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
  /** Unhealthy VMs stopped and kept instead of deleted (`healthcheck.quarantine`); replaced all the same. */
  quarantine: Quarantine[];
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
  /** VMs that exist but are not held to the ceiling (scrubbing, quarantined or being deleted: on their way out). */
  exempt: number;
  budget: PlanBudget;
  /** Set for a preset spread over two or more zones. */
  zones?: PlanZones;
}
