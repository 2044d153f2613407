import { META_REVISION, META_SPEC, type Vm } from '../drivers/types.js';
import type { ShepherdError } from '../errors/shepherd-error.js';
import type { Preset } from '../presets/preset.js';
import { keyCount } from '../util/key-count.js';
import type { TerminationOutcome } from './apply.js';
import type { CreateOutcome } from './apply-creates.js';
import type { ClassifiedVm } from './classify.js';
import type { HealthById } from './health.js';
import { guardHolding, type Plan } from './plan.js';
import type { Phase, PresetStatus, StatusBudget, VmHealth, VmSnapshot } from './state.js';

/**
 * The VMs after this manage's actions: terminated ones removed, created ones added as `pending`. A VM
 * that looks exactly as in the previous snapshot keeps its snapshot object, and is compared field by
 * field without building a new one first (steady presets allocate nothing per VM). `shared`: the
 * preset's spec hash and revision, so that snapshots hold these strings once rather than the copies
 * every listing brings. `health`: each VM's health after this manage's remedies (the classification's
 * otherwise); the snapshots are where it is saved.
 */
export function snapshotAfter(
  classified: readonly ClassifiedVm[],
  terminations: TerminationOutcome | undefined,
  creates: CreateOutcome | undefined,
  previous: readonly VmSnapshot[] = [],
  shared: SharedStrings = {},
  health?: HealthById,
): VmSnapshot[] {
  const gone = terminations?.done.length ? new Set(terminations.done.map((t) => t.vmId)) : undefined;
  const before = new Map<string, VmSnapshot>();
  for (const s of previous) before.set(s.id, s);
  const after: VmSnapshot[] = [];
  for (const c of classified) {
    if (gone?.has(c.vm.id)) continue;
    const old = before.get(c.vm.id);
    const h = health ? health.get(c.vm.id) : c.health;
    after.push(old && matches(old, c.vm, c.class, h) ? old : snapshotOf(c.vm, c.class, h, shared, old));
  }
  for (const vm of creates?.created ?? []) after.push(snapshotOf(vm, 'pending', undefined, shared));
  // Unchanged: the previous array itself (a stored state's array is frozen already, nothing to redo).
  if (after.length === previous.length && after.every((s, i) => s === previous[i]))
    return previous as VmSnapshot[];
  return after;
}

/** Strings many snapshots of one preset carry: kept once (the preset's own) instead of once per VM. */
export interface SharedStrings {
  specHash?: string;
  revision?: string;
}

/** Whether snapshotOf(vm, state, health) would equal `old` (the same fields, the same values). */
function matches(old: VmSnapshot, vm: Vm, state: string, health: VmHealth | undefined): boolean {
  return (
    old.id === vm.id &&
    old.name === vm.name &&
    old.state === state &&
    old.providerStatus === (vm.providerStatus || undefined) &&
    sameIps(old.ips, vm.ips) &&
    old.createdAt === vm.createdAt &&
    old.specHash === (vm.metadata[META_SPEC] || undefined) &&
    old.revision === (vm.metadata[META_REVISION] || undefined) &&
    old.image === (vm.image || undefined) &&
    old.flavor === (vm.flavor || undefined) &&
    old.fault === (vm.fault || undefined) &&
    old.timedShutdownAt === vm.timedShutdownAt &&
    old.health === health
  );
}

function sameIps(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A new snapshot. Values equal to those of the VM's previous snapshot are taken from it: its id is the
 * very string the VM's creation event holds, and each listing brings fresh copies of all of them.
 */
function snapshotOf(
  vm: Vm,
  state: string,
  health: VmHealth | undefined,
  shared: SharedStrings,
  old?: VmSnapshot,
): VmSnapshot {
  const spec = vm.metadata[META_SPEC];
  const revision = vm.metadata[META_REVISION];
  return {
    id: old?.id === vm.id ? old.id : vm.id,
    name: old?.name === vm.name ? old.name : vm.name,
    state,
    ...(vm.providerStatus ? { providerStatus: vm.providerStatus } : {}),
    ips: old && sameIps(old.ips, vm.ips) ? old.ips : vm.ips,
    createdAt: old?.createdAt === vm.createdAt ? old.createdAt : vm.createdAt,
    ...(spec ? { specHash: spec === shared.specHash ? shared.specHash : spec } : {}),
    ...(revision ? { revision: revision === shared.revision ? shared.revision : revision } : {}),
    ...(vm.image ? { image: vm.image } : {}),
    ...(vm.flavor ? { flavor: vm.flavor } : {}),
    ...(vm.fault ? { fault: vm.fault } : {}),
    ...(vm.timedShutdownAt !== undefined ? { timedShutdownAt: vm.timedShutdownAt } : {}),
    ...(health ? { health } : {}),
  };
}

/**
 * `previous` itself when `next` says the same: a steady preset then keeps one status object for good
 * instead of leaving one behind every cycle in the old generation (and metrics skip what did not change).
 */
export function sameStatusOr(previous: PresetStatus | null | undefined, next: PresetStatus): PresetStatus {
  return previous && sameStatus(previous, next) ? previous : next;
}

function sameStatus(a: PresetStatus, b: PresetStatus): boolean {
  if (
    a.phase !== b.phase ||
    a.code !== b.code ||
    a.message !== b.message ||
    a.desired !== b.desired ||
    a.guard !== b.guard ||
    !sameBudget(a.budget, b.budget)
  )
    return false;
  for (const state in b.counts) if (a.counts[state] !== b.counts[state]) return false;
  return keyCount(a.counts) === keyCount(b.counts);
}

function sameBudget(a: StatusBudget | undefined, b: StatusBudget | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.limit === b.limit &&
    a.unavailable === b.unavailable &&
    a.room === b.room &&
    a.missing === b.missing &&
    a.holders.length === b.holders.length &&
    a.holders.every((h, i) => {
      const o = b.holders[i];
      return o !== undefined && h.vm === o.vm && h.user === o.user && h.what === o.what;
    })
  );
}

/** The budget as the status keeps it (without the plan's own spending). */
function statusBudget(p: Plan): StatusBudget {
  const { limit, unavailable, room, holders, missing } = p.budget;
  return { limit, unavailable, room, holders, missing };
}

/** Where the preset stands after this manage, at a glance: the phase and, when failing, a code. */
export function presetStatus(
  preset: Preset,
  p: Plan,
  vms: readonly VmSnapshot[],
  failures: readonly ShepherdError[],
  acted: boolean,
  paused?: { by: string; at: number },
): PresetStatus {
  const counts: Record<string, number> = {};
  for (const vm of vms) counts[vm.state] = (counts[vm.state] ?? 0) + 1;
  const running = counts.running ?? 0;
  // A quarantined VM failed, was replaced and waits for its ttl: it no longer makes the preset degraded.
  const failingVms = vms.filter((v) => (v.health?.failures ?? 0) > 0 && v.state !== 'quarantined').length;
  const desired = preset.count;
  const holding = guardHolding(p.guard);
  const guard = holding !== null;
  // One object literal in one of two shapes: a status spread from a shared base object costs more
  // memory, kept for every preset (docs/performance.md).
  const budget = statusBudget(p);
  const status = (phase: Phase, message: string, code?: string): PresetStatus =>
    code === undefined
      ? { desired, counts, guard, phase, message, budget }
      : { desired, counts, guard, phase, code, message, budget };
  const summary = `${running}/${preset.count} running${counts.pending ? `, ${counts.pending} pending` : ''}${failingVms ? `, ${failingVms} failing checks` : ''}${counts.quarantined ? `, ${counts.quarantined} quarantined` : ''}`;
  if (preset.unmanaged) return status('unmanaged', `unmanaged: ${summary}`);
  if (paused)
    return status('paused', `paused by ${paused.by} at ${new Date(paused.at).toISOString()}: ${summary}`);
  const failure = failures[0];
  if (failure) return status('failing', `${summary}; ${failure.message}`, failure.code);
  const fleet = p.guard.fleet;
  if (holding === 'fleet' && fleet) {
    return status(
      'degraded',
      `${summary}; fleet-wide guard: ${fleet.failing} of ${fleet.checked} checked VMs of this instance fail their checks (max_unhealthy_fleet allows ${fleet.limit}): none terminated for health`,
      'reconcile_guard_0002',
    );
  }
  if (holding === 'preset') {
    return status(
      'degraded',
      `${summary}; mass-deletion guard: ${p.guard.failing} of ${p.guard.total} VMs fail their checks (max_unhealthy allows ${p.guard.limit}): replaced one at a time`,
      'reconcile_guard_0001',
    );
  }
  const block = p.createBlocked;
  if (block) {
    const until = new Date(block.until).toISOString();
    return status('failing', `${summary}; creation waits until ${until}: ${block.reason}`, block.code);
  }
  const r = p.rollout;
  if (r.paused)
    return status('degraded', `${summary}; rollout paused: ${r.paused}`, 'reconcile_rollout_0001');
  if (failingVms > 0 || (counts.unhealthy ?? 0) > 0) return status('degraded', summary);
  if (r.active) {
    const how = r.fallback ? ' (replacing VMs whose fields cannot change in place)' : '';
    return status(
      'converging',
      `${summary}; rolling out spec ${preset.specHash}${how}: ${r.outdated} outdated, ${r.ready} ready (min ${r.minReady})`,
    );
  }
  // Expiring VMs may linger beside their replacements until their shutdown time, quarantined ones until their ttl.
  const others = vms.length - running - (counts.expiring ?? 0) - (counts.quarantined ?? 0);
  const settled = running === preset.count && others === 0 && !acted;
  return status(settled ? 'converged' : 'converging', summary);
}
