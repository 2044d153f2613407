import type { LockSlot, LockStore, Vm } from '../drivers/types.js';
import { type DisruptionLimits, type LockNeed, locksFor, waitReason } from './lock-keys.js';

/** A planned disruptive action that would wait for a lock now. */
export interface PlannedLockWait {
  vm: string;
  action: string;
  lock: string;
  reason: string;
}

/** The first of `needs` whose slots are all held now (pure), with its holders. */
export function firstBusy(
  needs: readonly LockNeed[],
  holders: ReadonlyMap<string, readonly LockSlot[]>,
): { need: LockNeed; holders: readonly LockSlot[] } | undefined {
  for (const need of needs) {
    const h = holders.get(need.key) ?? [];
    if (h.length >= need.slots) return { need, holders: h };
  }
  return undefined;
}

/**
 * For `plan`: which of the planned disruptive actions would wait for a lock if the manage ran now, and
 * behind whom. Reads the locks once per key; takes nothing.
 */
export async function plannedLockWaits(
  actions: readonly { vm: Vm | undefined; action: string }[],
  store: LockStore,
  limits: DisruptionLimits,
  account: string | undefined,
): Promise<PlannedLockWait[]> {
  const holders = new Map<string, LockSlot[]>();
  const out: PlannedLockWait[] = [];
  for (const { vm, action } of actions) {
    if (!vm) continue;
    const needs = locksFor(vm, account, limits);
    for (const need of needs)
      if (!holders.has(need.key)) holders.set(need.key, await store.listLocks(need.key));
    const busy = firstBusy(needs, holders);
    if (busy)
      out.push({ vm: vm.id, action, lock: busy.need.key, reason: waitReason(busy.need, busy.holders) });
  }
  return out;
}
