import type { Verdict } from '../drivers/types.js';
import type { BackoffState } from './backoff.js';
import type { CapacitySkip } from './capacity-skips.js';
import type { DemandState } from './demand.js';
import type { AfterCreateNote, HookWait } from './hook-records.js';
import type { VmLifecycle } from './verbs.js';

/**
 * Health of one VM across checks (kept in the runtime state, so another instance can continue it).
 * Flat and compact on purpose: one object per VM, at 100,000 VMs.
 */
export interface VmHealth {
  /** Consecutive failed checks that counted (failures during startup grace do not). */
  failures: number;
  /** Epoch ms of the first failure of the current streak. */
  failingSince: number | null;
  /** The last check's result (it ran at the preset's `lastManagedAt`). */
  verdict: Verdict | null;
  reason?: string;
  code?: string;
  /** Recent verdicts, oldest first, one character each: h healthy, u unhealthy, ? unknown. */
  history: string;
  /** Epoch ms since when the VM passes its checks without interruption (for `update.min_ready`). */
  healthySince?: number;
  /** Remedy steps already applied to this VM (index into `healthcheck.remedy`). */
  remedied?: number;
}

export type EventType =
  | 'adopted'
  | 'adopt_failed'
  | 'verb'
  | 'verb_waiting'
  | 'verb_failed'
  | 'updated'
  | 'update_failed'
  | 'remedied'
  | 'remedy_failed'
  /** `healthcheck.quarantine`: an unhealthy VM stopped and kept instead of deleted, or its stop failed. */
  | 'quarantined'
  | 'quarantine_failed'
  | 'create_backoff'
  | 'zone_skipped'
  | 'flavor_skipped'
  | 'rollout_started'
  | 'rollout_paused'
  | 'rollout_done'
  | 'created'
  | 'create_failed'
  | 'terminated'
  | 'terminate_failed'
  | 'health_failing'
  | 'health_recovered'
  | 'guard_on'
  | 'guard_off'
  | 'manage_failed'
  | 'lease_lost'
  | 'paused'
  | 'resumed'
  /** A disruptive cloud call (docs/locks.md): started, ended (answered and its effect seen, or failed). */
  | 'disruption_started'
  | 'disruption_ended'
  /** A disruptive call deferred: an infrastructure lock it needs has no free slot. */
  | 'lock_waiting'
  /** Lifecycle hooks (docs/hooks.md): a notice delivered, answered, timed out, not delivered, cancelled. */
  | 'hook_sent'
  | 'hook_answered'
  | 'hook_heartbeat'
  | 'hook_timed_out'
  | 'hook_failed'
  | 'hook_cancelled'
  /** An operator's terminate handed to the loop, which runs the before_terminate hook first. */
  | 'terminate_requested'
  /** A count that follows demand changed, or its query failed (once per condition) or answered again. */
  | 'count_changed'
  | 'demand_unavailable'
  | 'demand_recovered';

/** One action or notable change, with its reason; kept (bounded) in the preset's runtime state. */
export interface PresetEvent {
  /** ISO 8601 UTC. */
  at: string;
  type: EventType;
  vm?: string;
  reason: string;
  code?: string;
  /** `created`: the preset revision the VM was built from (for git presets, the commit). */
  revision?: string;
  /** Structured facts beside the reason (e.g. ready VMs when an outdated VM was retired). */
  data?: Record<string, number | string>;
  /** The task that did it (a resumed task finds its own event and does not record it twice). */
  task?: string;
  /** Fencing token of the lease under which it happened, and the instance that held it. */
  token: number;
  instance: string;
}

/** A VM as last seen by the loop, after its actions (the API and panel show this). */
export interface VmSnapshot {
  id: string;
  name: string;
  /** Classification: running, pending, unhealthy, expiring, ... or creating/terminated for this cycle's actions. */
  state: string;
  providerStatus?: string;
  ips: string[];
  createdAt: string;
  specHash?: string;
  revision?: string;
  image?: string;
  flavor?: string;
  fault?: string;
  timedShutdownAt?: number;
  /** The VM's health as the loop keeps it (saved here only: see healthOfSnapshots). */
  health?: VmHealth;
}

export type Phase = 'converged' | 'converging' | 'degraded' | 'failing' | 'unmanaged' | 'paused';

export interface PresetStatus {
  phase: Phase;
  code?: string;
  message: string;
  desired: number;
  /** VMs by classification after this cycle's actions. */
  counts: Record<string, number>;
  guard: boolean;
  /** The disruption budget as this manage found it (before its actions): who holds VMs out of service. */
  budget?: StatusBudget;
}

/** The disruption budget in a preset's status (disruption-budget.ts). */
export interface StatusBudget {
  limit: number;
  unavailable: number;
  room: number;
  holders: { vm: string; user: string; what: string }[];
  missing: number;
}

/** Where a decision records the events it makes (the manage stamps them with time, token, instance). */
export type EventSink = (e: Omit<PresetEvent, 'at' | 'token' | 'instance'>) => void;

/** A rollout's progress as saved: the spec it rolls to, and why it paused. */
export interface RolloutState {
  spec: string;
  paused?: { reason: string; at: number };
}

export interface PresetState {
  version: 1;
  /** Epoch ms when the last completed manage started. */
  lastManagedAt: number | null;
  /** Epoch ms when its state was saved (after its actions). */
  lastSavedAt: number | null;
  lastManagedBy: string | null;
  revision: string | null;
  events: PresetEvent[];
  vms: VmSnapshot[];
  status: PresetStatus | null;
  /** The rollout to the current spec, while outdated VMs remain. */
  rollout?: RolloutState;
  /** Create backoff windows (see backoff.ts). */
  backoff?: BackoffState;
  /** Flavors found without capacity per zone, for a while (capacity-skips.ts): fallbacks and zone skips. */
  capacity?: CapacitySkip[];
  /** VMs an operator quiesced or scrubbed (verbs.ts), or the loop quarantined (quarantine.ts), by VM id. */
  lifecycle?: Record<string, VmLifecycle>;
  /** Set by an operator (API, panel): the loop observes and checks health but takes no action. */
  paused?: { by: string; at: number };
  /** VMs this preset deleted (epoch ms) that the cloud still listed: never deleted or counted again. */
  deleting?: Record<string, number>;
  /** Operators' verbs that wait for the disruption budget, by VM id (see admit-verb.ts). */
  waiting?: Record<string, VerbWait>;
  /** VMs whose termination waits for the before_terminate hook (terminating:wait), by VM id (hooks.ts). */
  hooks?: Record<string, HookWait>;
  /** VMs whose after_create notice is settled (delivered or given up), or its next try (hooks.ts). */
  notified?: Record<string, AfterCreateNote>;
  /** A count that follows demand: the count in force and what decided it (demand.ts). */
  demand?: DemandState;
}

/** A verb waiting for room in the preset's disruption budget. */
export interface VerbWait {
  verb: string;
  by: string;
  /** Epoch ms: since when it waits, and when it gives up (an entry past it is stale: ignored). */
  since: number;
  until: number;
  reason: string;
}

/** The events with `added` after them, the oldest dropped beyond `kept` (`manage.events_kept`). */
export function eventsWith(
  events: readonly PresetEvent[],
  added: readonly PresetEvent[],
  kept: number,
): PresetEvent[] {
  return [...events, ...added].slice(-kept);
}

export function emptyState(): PresetState {
  return {
    version: 1,
    lastManagedAt: null,
    lastSavedAt: null,
    lastManagedBy: null,
    revision: null,
    events: [],
    vms: [],
    status: null,
  };
}

/** Reads a stored state defensively: unknown or older shapes start fresh rather than crash the loop. */
export function parseState(value: unknown): PresetState {
  if (typeof value !== 'object' || value === null || (value as { version?: unknown }).version !== 1)
    return emptyState();
  const saved = value as Partial<PresetState> & { health?: Record<string, VmHealth> };
  if (saved.health === undefined) return { ...emptyState(), ...saved } as PresetState;
  // Saved by an earlier version: health was also kept in a record by VM id, and that record was the
  // one the loop read (a remedy's step count was only there).
  const { health, ...rest } = saved;
  const state = { ...emptyState(), ...rest } as PresetState;
  if (typeof health !== 'object' || health === null) return state;
  return { ...state, vms: state.vms.map((v) => (health[v.id] ? { ...v, health: health[v.id] } : v)) };
}
