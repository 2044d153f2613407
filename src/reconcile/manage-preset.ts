import type { Logger } from 'pino';
import type { CountOrPercent } from '../config/preset-schema.js';
import {
  type HealthCheck,
  type LockStore,
  META_REVISION,
  type RuntimeStore,
  type Vm,
} from '../drivers/types.js';
import { asShepherdError, isShepherdError, type ShepherdError } from '../errors/shepherd-error.js';
import { errorFields } from '../observability/error-fields.js';
import type { Preset } from '../presets/preset.js';
import type { Clock } from '../util/clock.js';
import type { TaskLimiter } from '../util/limiter.js';
import {
  type ApplyContext,
  applyAdoptions,
  applyCreates,
  applyRemedies,
  applyTerminations,
  applyUpdates,
  type Cloud,
  type CreateOutcome,
  capabilitiesOf,
  type TerminationOutcome,
  type VerbOutcome,
} from './apply.js';
import { afterCreates, type BackoffState } from './backoff.js';
import { type CapacityFound, type CapacitySkip, type CapacitySkips, skipsAfter } from './capacity-skips.js';
import { DELETE_PATIENCE_MS } from './classify.js';
import { DisruptionGate } from './disruption-gate.js';
import { isDue } from './due.js';
import type { FleetCounts } from './fleet-guard.js';
import type { HealthById } from './health.js';
import { LeaseKeeper } from './lease-keeper.js';
import type { DisruptionLimits, LockLevel } from './lock-keys.js';
import { checkHealth, type Decision, decide, type Listing, observe, withFaults } from './observe.js';
import { createBudget, guardHolding, type InPlaceUpdate, type Remedy } from './plan.js';
import type { PresetTasksResult } from './run-tasks.js';
import { type PresetEvent, type PresetState, parseState, type RolloutState, type VerbWait } from './state.js';
import { presetStatus, sameStatusOr, snapshotAfter } from './status.js';
import { withActiveWaits } from './verb-admission.js';
import type { VmLifecycle } from './verbs.js';

export interface ManageDeps {
  runtime: RuntimeStore;
  cloud: Cloud;
  health: HealthCheck | null;
  healthQueue: TaskLimiter;
  clock: Clock;
  /** Already carries the preset name and instance id. */
  logger: Logger;
  instanceId: string;
  eventsKept: number;
  healthHistory: number;
  /** The account's listing for this cycle, when the driver can list a whole account at once. */
  sharedListing?: () => Promise<Listing | undefined>;
  /** Aborted when the daemon stops: calls in flight finish, no new step or cloud call starts. */
  stopping: AbortSignal;
  /** This instance's fleet health, for the fleet-wide guard (manage.max_unhealthy_fleet). */
  fleet?: { others(preset: string): FleetCounts; maxUnhealthy: CountOrPercent };
  /**
   * Runs the preset's queued and running tasks under the lease, before the manage reads the state; a
   * `manage` task among them forces this manage and is ended by `after`, before the lease is released.
   */
  tasks?: (lease: LeaseKeeper) => Promise<PresetTasksResult>;
  /**
   * The preset as the store has it now (the catalog refreshed first), or undefined when it is gone:
   * asked when the last manage, by another instance, used a different revision of the preset, or a VM
   * carries a revision this instance never read (`unseen`: known from now on, so asked once). The refresh
   * must have started after `observedAt` (performance.now() before the listing that showed it).
   */
  freshPreset?: (name: string, unseen: readonly string[], observedAt: number) => Promise<Preset | undefined>;
  /** Whether this instance has read that revision of the preset (its current one or an earlier one). */
  knowsRevision?: (name: string, revision: string) => boolean;
  /** `limits:` and the store's locks: disruptive calls wait for their slots (docs/locks.md). */
  locks?: { store: LockStore; limits: DisruptionLimits; onWait?: (level: LockLevel) => void };
}

import type { ManageOutcome, ManageResult } from './manage-outcome.js';

export type { ManageOutcome, ManageResult } from './manage-outcome.js';

export const leaseKey = (preset: string) => `preset/${preset}`;

/**
 * One manage of one preset, always under its lease: observe, check health, decide (pure), act, and save
 * the post-action state with the lease's fencing token. Nothing is done without the lease.
 */
export async function managePreset(
  planned: Preset,
  deps: ManageDeps,
  options: { force?: boolean } = {},
): Promise<ManageOutcome> {
  const started = deps.clock.now();
  let preset = planned;
  const outcome = (result: ManageResult, extra: Partial<ManageOutcome> = {}): ManageOutcome => ({
    preset: preset.name,
    result,
    created: 0,
    terminated: 0,
    failedActions: 0,
    lastManagedAt: null,
    durationMs: deps.clock.now() - started,
    ...extra,
  });

  let lease: LeaseKeeper | null;
  try {
    lease = await LeaseKeeper.acquire(
      leaseKey(preset.name),
      preset.leaseTtlMs,
      deps.runtime,
      deps.clock,
      deps.logger,
    );
  } catch (err) {
    const error = asShepherdError(err, 'reconcile_manage_1001', 'lease acquire');
    deps.logger.error(errorFields(error), 'cannot take the preset lease');
    return outcome('failed', { error, runtimeFailure: true });
  }
  if (!lease) return outcome('leased_elsewhere');
  deps.logger[lease.takenOver ? 'info' : 'debug'](
    { fence: lease.token, takenOver: lease.takenOver },
    'lease taken',
  );

  let tasks: PresetTasksResult | undefined;
  if (deps.tasks) {
    try {
      tasks = await deps.tasks(lease);
    } catch (err) {
      const error = asShepherdError(err, 'reconcile_manage_1001', 'tasks');
      deps.logger.warn({ ...errorFields(error), fence: lease.token }, 'cannot run the preset tasks');
    }
  }

  const leaseInfo = { token: lease.token, takenOver: lease.takenOver };
  let runtimeFailure = false;
  const runtime = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      runtimeFailure = !isShepherdError(err, 'runtime_save_0001');
      throw err;
    }
  };
  const events: PresetEvent[] = [];
  const record = (e: Omit<PresetEvent, 'at' | 'token' | 'instance'>) =>
    events.push({
      at: new Date(deps.clock.now()).toISOString(),
      token: lease.token,
      instance: deps.instanceId,
      ...e,
    });
  let state: PresetState | undefined;
  /** The outcome of this manage, for the `manage` tasks it ends. */
  let final: ManageOutcome | undefined;
  try {
    state = parseState(await runtime(() => deps.runtime.load(preset.name)));
    if (tasks?.activeVms) state = withActiveWaits(state, tasks.activeVms);
    if (!options.force && !tasks?.force && !isDue(state.lastManagedAt, preset.manageIntervalMs, started)) {
      return outcome('not_due', { lastManagedAt: state.lastManagedAt, lease: leaseInfo });
    }
    const signal = lease.signal;
    const shared = deps.sharedListing ? await deps.sharedListing() : undefined;
    const observedAt = performance.now();
    const listed = await observe(preset, deps.cloud, state, shared, lease.takenOver, signal);
    const vms = await withFaults(preset, listed, deps.cloud, signal);
    const unseen = unseenRevisions(vms, preset, deps.knowsRevision);
    if (deps.freshPreset && (unseen.length > 0 || otherRevision(state, preset, deps.instanceId))) {
      // Another instance acted on a revision of the preset this one has not read (a paused process, a
      // watch event not handled yet, a save that failed): acting on the old count or spec would undo what
      // it did. Read the store again; whatever it holds now is what this manage acts on.
      const fresh = await deps.freshPreset(preset.name, unseen, observedAt);
      if (!fresh) return outcome('not_due', { lastManagedAt: state.lastManagedAt, lease: leaseInfo });
      if (fresh.source.revision !== preset.source.revision)
        deps.logger.info(
          { revision: fresh.source.revision, was: preset.source.revision, fence: lease.token },
          'preset read again: another instance acted on a newer revision',
        );
      preset = fresh;
    }
    const results = await checkHealth(preset, vms, deps.health, deps.healthQueue, signal);
    const now = deps.clock.now();
    const decision = decide(preset, vms, results, state, now, deps.healthHistory, {
      capabilities: capabilitiesOf(deps.cloud),
      inPlaceFields: deps.cloud.inPlaceFields,
      ...(deps.fleet && preset.healthcheck
        ? { fleet: { others: deps.fleet.others(preset.name), maxUnhealthy: deps.fleet.maxUnhealthy } }
        : {}),
    });
    recordHealthTransitions(state, decision, preset, (e) => {
      record(e);
      deps.logger.warn({ event: e.type, vm: e.vm, code: e.code, fence: lease.token }, e.reason);
    });
    const rollout = rolloutAfter(preset, state, decision, now, (e) => {
      record(e);
      deps.logger[e.type === 'rollout_paused' ? 'warn' : 'info'](
        { event: e.type, code: e.code, fence: lease.token },
        e.reason,
      );
    });

    const acts: Acts = {};
    // A paused preset is observed and checked like an unmanaged one: the operator holds its actions.
    if (!preset.unmanaged && !state.paused && !deps.stopping.aborted)
      await act(
        preset,
        decision,
        vms.length,
        {
          preset,
          cloud: deps.cloud,
          lease,
          logger: deps.logger,
          record,
          stopping: deps.stopping,
          ...gateFor(preset, deps, lease, record, vms),
        },
        acts,
      );
    const health = afterRemedies(decision.health, acts.remedies?.done ?? []);
    const backoff = acts.creates
      ? backoffAfter(preset, state, acts.creates, deps.clock.now(), (e) => {
          record(e);
          deps.logger.warn({ event: e.type, code: e.code, fence: lease.token }, e.reason);
        })
      : state.backoff;
    const capacity = capacityAfter(
      preset,
      state.capacity,
      decision.capacityFound,
      acts.creates,
      deps.clock.now(),
      (e) => {
        record(e);
        deps.logger.warn({ event: e.type, code: e.code, fence: lease.token }, e.reason);
      },
    );
    const failures = [
      ...(acts.adoptions?.failed.map((f) => f.error) ?? []),
      ...(acts.terminations?.failed.map((f) => f.error) ?? []),
      ...(acts.creates?.failed ?? []),
      ...(acts.remedies?.failed.map((f) => f.error) ?? []),
      ...(acts.updates?.failed.map((f) => f.error) ?? []),
    ];
    const vmsAfter = snapshotAfter(
      decision.classified,
      acts.terminations,
      acts.creates,
      state.vms,
      { specHash: preset.specHash, revision: preset.source.revision },
      health,
    );
    const acted =
      (acts.adoptions?.done.length ?? 0) +
        (acts.terminations?.done.length ?? 0) +
        (acts.creates?.created.length ?? 0) +
        (acts.remedies?.done.length ?? 0) +
        (acts.updates?.done.length ?? 0) >
      0;
    const next: PresetState = {
      version: 1,
      lastManagedAt: started,
      lastSavedAt: deps.clock.now(),
      lastManagedBy: deps.instanceId,
      revision: preset.source.revision,
      events: events.length > 0 ? [...state.events, ...events].slice(-deps.eventsKept) : state.events,
      vms: vmsAfter,
      status: sameStatusOr(
        state.status,
        presetStatus(preset, decision.plan, vmsAfter, failures, acted, state.paused),
      ),
      ...(rollout ? { rollout } : {}),
      ...(backoff && Object.keys(backoff).length > 0 ? { backoff } : {}),
      ...(capacity ? { capacity } : {}),
      ...lifecycleOf(state, vmsAfter),
      ...(state.paused ? { paused: state.paused } : {}),
      ...deletingAfter(state.deleting, acts.terminations, vms, deps.clock.now()),
      ...waitingOf(state, vmsAfter, deps.clock.now()),
    };
    const terminations = acts.terminations;
    const creates = acts.creates;
    // A manage whose lease ran out must not present itself as current: another instance may manage now.
    lease.assertValid();
    await runtime(() => deps.runtime.save(preset.name, next, lease.current));
    final = outcome('managed', {
      lease: leaseInfo,
      created: creates?.created.length ?? 0,
      terminated: terminations?.done.length ?? 0,
      failedActions: failures.length,
      lastManagedAt: started,
      state: next,
      ...(failures[0] ? { error: failures[0] } : {}),
      ...lockWaitsOf(acts),
    });
    return final;
  } catch (err) {
    const error = asShepherdError(err, 'reconcile_manage_1001');
    deps.logger.error({ ...errorFields(error), fence: lease.token }, 'manage failed');
    record({
      type: error.code === 'runtime_lease_0001' ? 'lease_lost' : 'manage_failed',
      reason: error.message,
      code: error.code,
    });
    await saveFailure(preset, state, events, error, lease, deps);
    final = outcome('failed', {
      error,
      lastManagedAt: state?.lastManagedAt ?? null,
      lease: leaseInfo,
      runtimeFailure,
    });
    return final;
  } finally {
    if (final && tasks?.after) await tasks.after(final);
    await lease.release();
  }
}

/**
 * After a failed manage the previous state is kept and only the failure is added, so the panel shows
 * it; `lastManagedAt` is not advanced, so the preset is retried on the next cycle.
 */
async function saveFailure(
  preset: Preset,
  state: PresetState | undefined,
  events: PresetEvent[],
  error: ShepherdError,
  lease: LeaseKeeper,
  deps: ManageDeps,
): Promise<void> {
  if (!state || !lease.valid()) return;
  const failed: PresetState = {
    ...state,
    events: [...state.events, ...events].slice(-deps.eventsKept),
    status: {
      ...(state.status ?? { desired: preset.count, counts: {}, guard: false }),
      phase: 'failing',
      code: error.code,
      message: error.message,
    },
  };
  await deps.runtime.save(preset.name, failed, lease.current).catch((err) => {
    deps.logger.warn(
      { err, code: asShepherdError(err, 'reconcile_manage_1001').code },
      'could not save the failure',
    );
  });
}

function recordHealthTransitions(
  state: PresetState,
  decision: Decision,
  preset: Preset,
  record: (e: Omit<PresetEvent, 'at' | 'token' | 'instance'>) => void,
): void {
  const threshold = preset.healthcheck?.policy.unhealthyThreshold ?? Number.POSITIVE_INFINITY;
  // Unchanged health (the steady state) cannot cross the threshold either way.
  if (decision.health !== decision.healthBefore)
    for (const [id, h] of decision.health) {
      const before = decision.healthBefore.get(id)?.failures ?? 0;
      if (before < threshold && h.failures >= threshold) {
        record({
          type: 'health_failing',
          vm: id,
          reason: `${h.failures} failed checks: ${h.reason ?? ''}`,
          ...(h.code ? { code: h.code } : {}),
        });
      } else if (before >= threshold && h.failures === 0) {
        record({ type: 'health_recovered', vm: id, reason: 'check passed again' });
      }
    }
  const g = decision.plan.guard;
  const was = state.status?.guard
    ? state.status.code === 'reconcile_guard_0002'
      ? 'fleet'
      : 'preset'
    : null;
  const now = guardHolding(g);
  if (now === was) return;
  if (was) record({ type: 'guard_off', reason: `${g.failing} of ${g.total} VMs fail their checks` });
  if (now === 'preset')
    record({
      type: 'guard_on',
      reason: `${g.failing} of ${g.total} VMs fail their checks; max_unhealthy allows ${g.limit}: replacing one at a time`,
      code: 'reconcile_guard_0001',
    });
  else if (now === 'fleet' && g.fleet)
    record({
      type: 'guard_on',
      reason: `${g.fleet.failing} of ${g.fleet.checked} checked VMs of this instance fail their checks; max_unhealthy_fleet allows ${g.fleet.limit}: no VM is terminated for health`,
      code: 'reconcile_guard_0002',
    });
}

interface Acts {
  adoptions?: VerbOutcome<string>;
  terminations?: TerminationOutcome;
  creates?: CreateOutcome;
  remedies?: VerbOutcome<Remedy>;
  updates?: VerbOutcome<InPlaceUpdate>;
}

/**
 * Carries out a plan: terminations first (they free room under the ceiling), then remedies and in-place
 * updates, then creates, capped by what the terminations actually freed.
 */
async function act(
  preset: Preset,
  decision: Decision,
  listed: number,
  ctx: ApplyContext,
  acts: Acts,
): Promise<void> {
  const p = decision.plan;
  if (p.adopt.length > 0 && ctx.cloud.can('setMetadata')) acts.adoptions = await applyAdoptions(p.adopt, ctx);
  acts.terminations = await applyTerminations(p.terminate, ctx);
  const steps = preset.healthcheck?.policy.remedies ?? [];
  [acts.remedies, acts.updates] = await Promise.all([
    applyRemedies(p.remedy, ctx, (r) => `step ${r.step + 1} of [${steps.join(', ')}]: ${r.reason}`),
    applyUpdates(p.update, ctx),
  ]);
  if (p.create > 0)
    acts.creates = await applyCreates(
      createBudget(p, listed - acts.terminations.done.length),
      ctx,
      p.zones
        ? {
            counts: p.zones.counts,
            skipped: p.zones.skipped,
            onlyTo: p.zones.rebalance?.to,
            capacity: decision.capacity,
            now: decision.decidedAt,
          }
        : { counts: {}, skipped: [], capacity: decision.capacity, now: decision.decidedAt },
    );
}

/** The disruption gate of this manage, when `limits:` are set (none allocated otherwise). */
function gateFor(
  preset: Preset,
  deps: ManageDeps,
  lease: LeaseKeeper,
  record: Record_,
  vms: readonly Vm[],
): { gate?: DisruptionGate; vms?: Map<string, Vm> } {
  const locks = deps.locks;
  if (!locks || Object.keys(locks.limits).length === 0) return {};
  const gate = new DisruptionGate({
    locks: locks.store,
    limits: locks.limits,
    account: deps.cloud.lockAccount,
    instance: deps.instanceId,
    preset: preset.name,
    ttlMs: preset.leaseTtlMs,
    lease,
    record,
    logger: deps.logger,
    ...(locks.onWait ? { onWait: locks.onWait } : {}),
  });
  return { gate, vms: new Map(vms.map((v) => [v.id, v])) };
}

/** How many actions each lock level deferred in this manage (nothing when none did). */
function lockWaitsOf(acts: Acts): { lockWaits?: Partial<Record<LockLevel, number>> } {
  const waits = [
    ...(acts.terminations?.waiting ?? []),
    ...(acts.remedies?.waiting ?? []),
    ...(acts.updates?.waiting ?? []),
  ];
  if (waits.length === 0) return {};
  const counts: Partial<Record<LockLevel, number>> = {};
  for (const { wait } of waits) counts[wait.level] = (counts[wait.level] ?? 0) + 1;
  return { lockWaits: counts };
}

/** A remedied VM starts a new streak: it must fail `unhealthy_threshold` checks again before the next step. */
function afterRemedies(health: HealthById, done: readonly Remedy[]): HealthById {
  if (done.length === 0) return health;
  const next = new Map(health);
  for (const r of done) {
    const h = next.get(r.vmId);
    if (!h) continue;
    const { healthySince: _since, ...rest } = h;
    next.set(r.vmId, { ...rest, failures: 0, failingSince: null, remedied: r.step + 1 });
  }
  return next;
}

type Record_ = (e: Omit<PresetEvent, 'at' | 'token' | 'instance'>) => void;

/** The rollout state to save, with events when a rollout starts, pauses or ends. */
function rolloutAfter(
  preset: Preset,
  state: PresetState,
  decision: Decision,
  now: number,
  record: Record_,
): RolloutState | undefined {
  const r = decision.plan.rollout;
  const before = state.rollout?.spec === preset.specHash ? state.rollout : undefined;
  if (!r.active) {
    if (before) record({ type: 'rollout_done', reason: `every VM is at spec ${preset.specHash}` });
    return undefined;
  }
  if (!before) {
    record({
      type: 'rollout_started',
      reason: `${r.outdated} VMs to bring to spec ${preset.specHash} (${preset.update.strategy})`,
    });
  }
  if (r.paused && !before?.paused) {
    record({ type: 'rollout_paused', reason: r.paused, code: 'reconcile_rollout_0001' });
    return { spec: preset.specHash, paused: { reason: r.paused, at: now } };
  }
  return before ?? { spec: preset.specHash };
}

/** The create backoff after this manage's creates, with an event for each window that starts. */
function backoffAfter(
  preset: Preset,
  state: PresetState,
  creates: CreateOutcome,
  now: number,
  record: Record_,
): BackoffState {
  const { state: next, started } = afterCreates(
    state.backoff ?? {},
    { created: creates.created.length, failed: creates.failed },
    preset.flavor,
    preset.createBackoff,
    now,
    Math.random,
  );
  for (const b of started) {
    record({
      type: 'create_backoff',
      reason: `no creates until ${new Date(b.until).toISOString()} (${b.key}, failure ${b.failures}): ${b.reason}`,
      code: b.code,
    });
  }
  return next;
}

/**
 * The capacity skips after this manage: what the listing (VMs failed for capacity) and the creates found
 * full is skipped for `quota_window`, with a `zone_skipped` event when a zone of a spread has no flavor
 * left, or `flavor_skipped` when a flavor of the list has no room in a zone; a placement that took a VM
 * is forgotten. Undefined: none left (the steady state allocates nothing).
 */
export function capacityAfter(
  preset: Preset,
  before: CapacitySkips | undefined,
  found: readonly CapacityFound[],
  creates: CreateOutcome | undefined,
  now: number,
  record: Record_,
): CapacitySkip[] | undefined {
  const all = creates?.full.length ? [...found, ...creates.full] : found;
  if (!before?.length && all.length === 0) return undefined;
  const window = preset.createBackoff.quotaWindowMs;
  const next = skipsAfter(before, all, creates?.placed ?? [], preset, window, now);
  const until = new Date(now + window).toISOString();
  for (const zone of next.zonesSkipped) {
    const why = all.find((f) => f.zone === zone);
    const others = preset.zones.filter((z) => z !== zone && !next.zonesSkipped.includes(z));
    record({
      type: 'zone_skipped',
      reason: `${zone}: no capacity (${why?.reason ?? 'no valid host'}); creates go to ${others.join(', ') || 'no other zone'} until ${until}`,
      ...(why?.code ? { code: why.code } : {}),
      data: { zone },
    });
  }
  for (const f of next.flavorsSkipped) {
    const rest = preset.flavors.filter((x) => x !== f.flavor);
    const then = rest.length > 0 ? `creates use ${rest.join(', ')}` : 'creates wait';
    record({
      type: 'flavor_skipped',
      reason: `${f.flavor}${f.zone ? ` in ${f.zone}` : ''}: no capacity (${f.reason}); ${then} until ${until}`,
      ...(f.code ? { code: f.code } : {}),
      data: { flavor: f.flavor, ...(f.zone ? { zone: f.zone } : {}) },
    });
  }
  return next.skips.length > 0 ? next.skips : undefined;
}

/** Lifecycle records of VMs that still exist (a scrubbed or vanished VM's record goes with it). */
function lifecycleOf(
  state: PresetState,
  vms: readonly { id: string }[],
): { lifecycle?: Record<string, VmLifecycle> } {
  if (!state.lifecycle) return {};
  const ids = new Set(vms.map((v) => v.id));
  const kept = Object.entries(state.lifecycle).filter(([id]) => ids.has(id));
  return kept.length > 0 ? { lifecycle: Object.fromEntries(kept) } : {};
}

/** Verbs still waiting for the disruption budget: kept while their VM exists and their wait lasts. */
function waitingOf(
  state: PresetState,
  vms: readonly { id: string }[],
  now: number,
): { waiting?: Record<string, VerbWait> } {
  if (!state.waiting) return {};
  const ids = new Set(vms.map((v) => v.id));
  const kept = Object.entries(state.waiting).filter(([id, w]) => ids.has(id) && w.until > now);
  return kept.length > 0 ? { waiting: Object.fromEntries(kept) } : {};
}

/**
 * VMs this preset deleted and that may still be listed: this manage's deletions, and earlier ones the
 * cloud still listed now. A VM gone from the listing, or deleted longer ago than the patience, drops out.
 */
export function deletingAfter(
  before: Readonly<Record<string, number>> | undefined,
  terminations: TerminationOutcome | undefined,
  listed: readonly { id: string }[],
  now: number,
): { deleting?: Record<string, number> } {
  if (!before && !terminations?.done.length) return {};
  const ids = new Set(listed.map((v) => v.id));
  const kept: Record<string, number> = {};
  for (const [id, at] of Object.entries(before ?? {}))
    if (ids.has(id) && now - at <= DELETE_PATIENCE_MS) kept[id] = at;
  for (const t of terminations?.done ?? []) kept[t.vmId] = now;
  return Object.keys(kept).length > 0 ? { deleting: kept } : {};
}

/** True when another instance's last manage used a revision of the preset other than this one's. */
function otherRevision(state: PresetState, preset: Preset, me: string): boolean {
  return state.revision !== null && state.revision !== preset.source.revision && state.lastManagedBy !== me;
}

/** Revisions VMs were built from that this instance never read: another instance's newer preset. */
function unseenRevisions(
  vms: readonly Vm[],
  preset: Preset,
  knows: ((name: string, revision: string) => boolean) | undefined,
): string[] {
  if (!knows) return [];
  const unseen = new Set<string>();
  for (const vm of vms) {
    const rev = vm.metadata[META_REVISION];
    if (rev !== undefined && rev !== preset.source.revision && !knows(preset.name, rev)) unseen.add(rev);
  }
  return [...unseen];
}
