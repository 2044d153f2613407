import type { ShepherdError } from '../errors/shepherd-error.js';
import type { Preset } from '../presets/preset.js';
import type { Acts } from './act.js';
import type { TerminationOutcome } from './apply.js';
import type { CreateOutcome } from './apply-creates.js';
import { afterCreates, type BackoffState } from './backoff.js';
import { type CapacityFound, type CapacitySkip, type CapacitySkips, skipsAfter } from './capacity-skips.js';
import { DELETE_PATIENCE_MS } from './classify.js';
import type { HealthById } from './health.js';
import { type AfterCreateNote, type HookWait, notesAfter, waitsAfter } from './hooks.js';
import type { Decision } from './observe.js';
import { guardHolding, type Remedy } from './plan.js';
import { withQuarantined } from './quarantine.js';
import {
  type EventSink,
  eventsWith,
  type PresetEvent,
  type PresetState,
  type RolloutState,
  type VerbWait,
} from './state.js';
import { presetStatus, sameStatusOr, snapshotAfter } from './status.js';
import type { VmLifecycle } from './verbs.js';

// What a manage decides after it acted: the state it saves and the events of what changed. Pure: the
// manage (manage-preset.ts) stamps the events and saves the result.

/** What one manage did and found, for the state it saves (all values: no call made here). */
export interface NextStateInput {
  preset: Preset;
  state: PresetState;
  decision: Decision;
  acts: Acts;
  /** The VMs the manage listed (before its actions). */
  listed: readonly { id: string }[];
  /** This manage's events, stamped. */
  events: readonly PresetEvent[];
  rollout: RolloutState | undefined;
  backoff: BackoffState | undefined;
  capacity: CapacitySkip[] | undefined;
  health: HealthById;
  /** When the manage started, and now. */
  started: number;
  now: number;
  instanceId: string;
  eventsKept: number;
  /** Lifecycle hooks' records (manage-hooks.ts): before_terminate waits, after_create notes. */
  hooks?: Record<string, HookWait> | undefined;
  notified?: Record<string, AfterCreateNote> | undefined;
}

/** The state a manage saves, and the failed actions it reports (pure). */
export function nextState(i: NextStateInput): { next: PresetState; failures: ShepherdError[] } {
  const { preset, state, decision, acts } = i;
  const failures = [
    ...(acts.adoptions?.failed.map((f) => f.error) ?? []),
    ...(acts.terminations?.failed.map((f) => f.error) ?? []),
    ...(acts.creates?.failed ?? []),
    ...(acts.remedies?.failed.map((f) => f.error) ?? []),
    ...(acts.updates?.failed.map((f) => f.error) ?? []),
    ...(acts.quarantines?.failed.map((f) => f.error) ?? []),
  ];
  const vmsAfter = snapshotAfter(
    decision.classified,
    acts.terminations,
    acts.creates,
    state.vms,
    { specHash: preset.specHash, revision: preset.source.revision },
    i.health,
  );
  const acted =
    (acts.adoptions?.done.length ?? 0) +
      (acts.terminations?.done.length ?? 0) +
      (acts.creates?.created.length ?? 0) +
      (acts.remedies?.done.length ?? 0) +
      (acts.updates?.done.length ?? 0) +
      (acts.quarantines?.done.length ?? 0) >
    0;
  const next: PresetState = {
    version: 1,
    lastManagedAt: i.started,
    lastSavedAt: i.now,
    lastManagedBy: i.instanceId,
    revision: preset.source.revision,
    events: i.events.length > 0 ? eventsWith(state.events, i.events, i.eventsKept) : state.events,
    vms: vmsAfter,
    status: sameStatusOr(
      state.status,
      presetStatus(preset, decision.plan, vmsAfter, failures, acted, state.paused),
    ),
    ...(i.rollout ? { rollout: i.rollout } : {}),
    ...(i.backoff && Object.keys(i.backoff).length > 0 ? { backoff: i.backoff } : {}),
    ...(i.capacity ? { capacity: i.capacity } : {}),
    ...withQuarantined(lifecycleOf(state, vmsAfter), acts.quarantines?.done, i.now),
    ...(state.paused ? { paused: state.paused } : {}),
    ...deletingAfter(state.deleting, acts.terminations, i.listed, i.now),
    ...waitingOf(state, vmsAfter, i.now),
    ...waitsAfter(i.hooks, vmsAfter, acts.terminations?.done ?? []),
    ...notesAfter(i.notified, vmsAfter),
  };
  return { next, failures };
}

/** Events for VMs crossing the unhealthy threshold, and the mass-deletion guard turning on or off. */
export function recordHealthTransitions(
  state: PresetState,
  decision: Decision,
  preset: Preset,
  record: EventSink,
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

/** A remedied VM starts a new streak: it must fail `unhealthy_threshold` checks again before the next step. */
export function afterRemedies(health: HealthById, done: readonly Remedy[]): HealthById {
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

export type { EventSink } from './state.js';

/** The rollout state to save, with events when a rollout starts, pauses or ends. */
export function rolloutAfter(
  preset: Preset,
  state: PresetState,
  decision: Decision,
  now: number,
  record: EventSink,
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
export function backoffAfter(
  preset: Preset,
  state: PresetState,
  creates: CreateOutcome,
  now: number,
  record: EventSink,
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
  record: EventSink,
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
export function lifecycleOf(
  state: PresetState,
  vms: readonly { id: string }[],
): { lifecycle?: Record<string, VmLifecycle> } {
  if (!state.lifecycle) return {};
  const ids = new Set(vms.map((v) => v.id));
  const kept = Object.entries(state.lifecycle).filter(([id]) => ids.has(id));
  return kept.length > 0 ? { lifecycle: Object.fromEntries(kept) } : {};
}

/** Verbs still waiting for the disruption budget: kept while their VM exists and their wait lasts. */
export function waitingOf(
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
