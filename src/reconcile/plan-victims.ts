import type { Preset } from '../presets/preset.js';
import type { ClassifiedVm } from './classify.js';

// Which VMs the plan takes out, in what order, within the disruption budget.

/** Unready VMs first (taking them down costs no availability), then ready ones while the budget lasts. */
export function takeWithinBudget(vms: readonly ClassifiedVm[], n: number, budget: number): ClassifiedVm[] {
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
export function takeInOrder(vms: readonly ClassifiedVm[], n: number, budget: number): ClassifiedVm[] {
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
