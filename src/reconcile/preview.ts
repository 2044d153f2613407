import type { HealthCheck, RuntimeStore, Vm } from '../drivers/types.js';
import type { Preset } from '../presets/preset.js';
import type { Clock } from '../util/clock.js';
import type { TaskLimiter } from '../util/limiter.js';
import { type Cloud, capabilitiesOf } from './apply.js';
import type { CreateBlock } from './backoff.js';
import type { CapacitySkips } from './capacity-skips.js';
import type { VmClass } from './classify.js';
import type { CountDecision, DemandBounds } from './demand.js';
import { type DemandQuery, desiredCount } from './demand-phase.js';
import { type HookPlan, hookPlan } from './hooks.js';
import { DISRUPTIVE_VERBS, type DisruptionLimits, terminateDisrupts } from './lock-keys.js';
import { type PlannedLockWait, plannedLockWaits } from './lock-preview.js';
import { checkHealth, decide, membersOf, withFaults } from './observe.js';
import type {
  GuardVerdict,
  InPlaceUpdate,
  PlanBudget,
  PlanContext,
  PlanZones,
  Remedy,
  RolloutVerdict,
  Termination,
} from './plan.js';
import type { Quarantine } from './quarantine.js';
import { parseState } from './state.js';

/** What one manage of a preset would do now, for `vmshepherd plan`. */
export interface PresetPreview {
  preset: string;
  count: number;
  revision: string;
  unmanaged: boolean;
  specHash: string;
  vms: {
    id: string;
    name: string;
    class: VmClass;
    reason: string;
    failing: boolean;
    outdated: boolean;
    ready: boolean;
  }[];
  /** VMs of the original VmShepherd (named after the preset, no metadata) that the manage adopts. */
  adopt: string[];
  terminate: Termination[];
  update: InPlaceUpdate[];
  remedy: Remedy[];
  /** Unhealthy VMs this manage would stop and keep instead of delete (`healthcheck.quarantine`). */
  quarantine: Quarantine[];
  create: number;
  createReason: string;
  createBlocked: CreateBlock | null;
  guard: GuardVerdict;
  rollout: RolloutVerdict & { strategy: string };
  /** The disruption budget before this manage, and the ready VMs it would take out. */
  budget: PlanBudget;
  /** A preset spread over zones: VMs per zone, zones skipped (until when), where the creates go. */
  zones?: PlanZones & { skippedUntil: Record<string, number> };
  /** Operators' verbs waiting for room in the budget, by VM. */
  waiting: { vm: string; verb: string; by: string; since: number; reason: string }[];
  /** Planned disruptive actions that would wait for an infrastructure lock now (with `limits:`). */
  locks: PlannedLockWait[];
  /** With a before_terminate hook: how each planned termination and waiting hook stands (docs/hooks.md). */
  hooks?: HookPlan[];
  /** A count that follows demand: why `count` is what it is now (docs/demand.md). */
  demand?: DemandPreview;
}

/** The count a manage would decide now, and why: the value, the bounds, the cooldown, a failed query. */
export interface DemandPreview {
  explain: string;
  wanted: number;
  bounds: DemandBounds;
  value?: number;
  /** Milliseconds before a wanted scale-in may happen. */
  waitMs?: number;
  /** The query fails (since when, epoch ms): the count is held. */
  unavailable?: { error: string; since: number };
}

/** What a preview reads: the cloud, the health check, the stored state, and the locks held now. */
export interface PreviewDeps {
  cloud: Cloud;
  health: HealthCheck | null;
  runtime: RuntimeStore;
  healthQueue: TaskLimiter;
  clock: Clock;
  healthHistory: number;
  /** This instance's other presets' health, for the fleet-wide guard. */
  fleet?: (preset: string) => NonNullable<PlanContext['fleet']>;
  /** `limits:` (non-empty): planned disruptions are checked against the locks held now. */
  limits?: DisruptionLimits;
  /** Reads the value of a count that follows demand. */
  demandQuery?: DemandQuery;
}

/**
 * Observes and decides exactly as a manage does, but without a lease, without acting and without saving:
 * reads the cloud listing, the stored health counters and runs the checks (reads only).
 */
export async function previewPreset(planned: Preset, deps: PreviewDeps): Promise<PresetPreview> {
  const signal = new AbortController().signal;
  const state = parseState(await deps.runtime.load(planned.name));
  // The count a manage would decide now; its events are not recorded (plan changes nothing).
  const { preset, decision: demand } = await desiredCount(
    planned,
    state,
    deps.demandQuery,
    () => deps.clock.now(),
    () => {},
    signal,
  );
  const vms = await withFaults(
    preset,
    membersOf(preset, await deps.cloud.list(preset.name, { signal })),
    deps.cloud,
    signal,
  );
  const results = await checkHealth(preset, vms, deps.health, deps.healthQueue, signal);
  const decision = decide(preset, vms, results, state, deps.clock.now(), deps.healthHistory, {
    capabilities: capabilitiesOf(deps.cloud),
    inPlaceFields: deps.cloud.inPlaceFields,
    ...(deps.fleet && preset.healthcheck ? { fleet: deps.fleet(preset.name) } : {}),
  });
  const p = decision.plan;
  const acts = !preset.unmanaged;
  const byId = new Map(vms.map((v) => [v.id, v]));
  const store = deps.runtime.locks;
  const locks =
    acts && store && deps.limits && Object.keys(deps.limits).length > 0
      ? await plannedLockWaits(disruptiveActions(p, byId), store, deps.limits, deps.cloud.lockAccount)
      : [];
  return {
    preset: preset.name,
    count: preset.count,
    revision: preset.source.revision,
    unmanaged: preset.unmanaged,
    specHash: preset.specHash,
    vms: decision.classified.map((c) => ({
      id: c.vm.id,
      name: c.vm.name,
      class: c.class,
      reason: c.reason,
      failing: c.failing,
      outdated: c.outdated,
      ready: c.ready,
    })),
    adopt: acts ? p.adopt : [],
    terminate: acts ? p.terminate : [],
    update: acts ? p.update : [],
    remedy: acts ? p.remedy : [],
    quarantine: acts ? p.quarantine : [],
    create: acts ? p.create : 0,
    createReason: p.createReason,
    createBlocked: p.createBlocked,
    guard: p.guard,
    rollout: { ...p.rollout, strategy: preset.update.strategy },
    budget: p.budget,
    ...(p.zones ? { zones: previewZones(p.zones, decision.capacity, acts) } : {}),
    waiting: Object.entries(state.waiting ?? {})
      .filter(([, w]) => w.until > deps.clock.now())
      .map(([vm, w]) => ({ vm, verb: w.verb, by: w.by, since: w.since, reason: w.reason })),
    locks,
    ...(acts && preset.hooks?.beforeTerminate
      ? { hooks: hookPlan(preset.hooks.beforeTerminate, p.terminate, state.hooks ?? {}, deps.clock.now()) }
      : {}),
    ...(demand ? { demand: demandPreview(demand) } : {}),
  };
}

/** The zones of a spread preset as `plan` shows them: each skipped zone with when it is tried again. */
function previewZones(
  zones: PlanZones,
  capacity: CapacitySkips | undefined,
  acts: boolean,
): NonNullable<PresetPreview['zones']> {
  return {
    ...zones,
    creates: acts ? zones.creates : [],
    skippedUntil: Object.fromEntries(
      zones.skipped.map((z) => [
        z,
        Math.min(...(capacity ?? []).filter((s) => s.zone === z).map((s) => s.until)),
      ]),
    ),
  };
}

/** What `plan` shows of a count that follows demand. */
function demandPreview(demand: CountDecision): DemandPreview {
  return {
    explain: demand.explain,
    wanted: demand.wanted,
    bounds: demand.bounds,
    ...(demand.state.value !== undefined ? { value: demand.state.value } : {}),
    ...(demand.waitMs !== undefined ? { waitMs: demand.waitMs } : {}),
    ...(demand.state.unavailable ? { unavailable: demand.state.unavailable } : {}),
  };
}

/** The planned actions that take locks (as apply.ts runs them through the gate). */
function disruptiveActions(
  p: {
    terminate: readonly Termination[];
    remedy: readonly Remedy[];
    update: readonly InPlaceUpdate[];
    quarantine: readonly Quarantine[];
  },
  byId: ReadonlyMap<string, Vm>,
): { vm: Vm | undefined; action: string }[] {
  return [
    ...p.terminate
      .filter((t) => terminateDisrupts(byId.get(t.vmId)))
      .map((t) => ({ vm: byId.get(t.vmId), action: 'terminate' })),
    ...p.remedy
      .filter((r) => DISRUPTIVE_VERBS.has(r.action))
      .map((r) => ({ vm: byId.get(r.vmId), action: r.action })),
    ...p.quarantine.map((q) => ({ vm: byId.get(q.vmId), action: 'stop' })),
    ...p.update
      .filter((u) => u.steps.some((s) => DISRUPTIVE_VERBS.has(s.verb)))
      .map((u) => ({ vm: byId.get(u.vmId), action: u.op })),
  ];
}
