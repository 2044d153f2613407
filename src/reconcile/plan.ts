import { type Preset, resolveCountOrPercent } from '../presets/preset.js';
import { type ClassifiedVm, DOOMED, type VmClass } from './classify.js';

export interface Termination {
  vmId: string;
  class: VmClass | 'surplus';
  reason: string;
}

export interface GuardVerdict {
  active: boolean;
  failing: number;
  total: number;
  /** Most VMs that may fail at once before the guard stops health terminations. */
  limit: number;
}

export interface Plan {
  terminate: Termination[];
  /** VMs to create when every termination succeeds; see createBudget for the cap when some fail. */
  create: number;
  createReason: string;
  guard: GuardVerdict;
  /** VMs that count towards `count` after the plan (running, pending, unknown, kept unhealthy). */
  serving: number;
  /** Most VMs that may exist at once: count + max_surge. */
  ceiling: number;
}

/**
 * The decision of one manage, a pure function of the preset and its classified VMs:
 * terminate dead, expired and stuck VMs; replace unhealthy ones unless the mass-deletion guard holds;
 * scale in surplus; create what is missing, never above count + max_surge VMs in all.
 */
export function plan(preset: Preset, vms: readonly ClassifiedVm[]): Plan {
  const terminate: Termination[] = vms
    .filter((v) => DOOMED.has(v.class))
    .map((v) => ({ vmId: v.vm.id, class: v.class, reason: v.reason }));
  const alive = vms.filter((v) => !DOOMED.has(v.class));
  const guard = massDeletionGuard(preset, alive);
  const unhealthy = alive.filter((v) => v.class === 'unhealthy');
  if (!guard.active) {
    terminate.push(...unhealthy.map((v) => ({ vmId: v.vm.id, class: v.class, reason: v.reason })));
  }
  // Expiring VMs still serve until their time, but are not counted: their replacements are.
  let serving = alive.filter((v) => v.class !== 'expiring' && (guard.active || v.class !== 'unhealthy'));
  if (serving.length > preset.count) {
    const victims = scaleInOrder(serving, preset.scaleInOrder).slice(0, serving.length - preset.count);
    const ids = new Set(victims.map((v) => v.vm.id));
    terminate.push(
      ...victims.map((v) => ({
        vmId: v.vm.id,
        class: 'surplus' as const,
        reason: `count is ${preset.count}`,
      })),
    );
    serving = serving.filter((v) => !ids.has(v.vm.id));
  }
  const expiring = alive.filter((v) => v.class === 'expiring').length;
  const missing = Math.max(0, preset.count - serving.length);
  const ceiling = preset.count + resolveCountOrPercent(preset.maxSurge, preset.count, 'up');
  const create = Math.min(missing, Math.max(0, ceiling - serving.length - expiring));
  return {
    terminate,
    create,
    createReason:
      missing === 0
        ? ''
        : `${serving.length} of ${preset.count} VMs${expiring ? `, ${expiring} expiring` : ''}`,
    guard,
    serving: serving.length,
    ceiling,
  };
}

/**
 * When more of a preset's VMs fail their checks at once than `max_unhealthy` allows, the cause is more
 * likely the network or the check than the VMs: nothing is terminated for health.
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
  return Math.max(0, Math.min(p.create, p.ceiling - existingAfterTerminations));
}
