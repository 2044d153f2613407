import type { DisruptionLimits, LockLevel } from '../config/limits.js';
import type { IaasCapability, Vm } from '../drivers/types.js';

/** Verbs that take a VM out of service; the others change it without a disruption. */
export const DISRUPTIVE_VERBS: ReadonlySet<IaasCapability> = new Set(['reboot', 'rebuild', 'resize', 'stop']);

export { type DisruptionLimits, LOCK_LEVELS, type LockLevel, limitsOf } from '../config/limits.js';

/** One lock a disruption needs: its key in the runtime store and how many may hold it at once. */
export interface LockNeed {
  level: LockLevel;
  key: string;
  slots: number;
}

/**
 * The locks a disruptive call on `vm` takes (pure), finest first: a level is skipped when it has no limit
 * or the VM (or the driver, for the account) does not tell what it is in. Keys carry the account, since a
 * host or zone name means something only within its cloud account.
 */
export function locksFor(
  vm: Pick<Vm, 'host' | 'availabilityZone'>,
  account: string | undefined,
  limits: DisruptionLimits,
): LockNeed[] {
  const scope = account ?? '';
  const needs: LockNeed[] = [];
  if (limits.host !== undefined && vm.host)
    needs.push({ level: 'host', key: `host:${scope}:${vm.host}`, slots: limits.host });
  if (limits.az !== undefined && vm.availabilityZone)
    needs.push({ level: 'az', key: `az:${scope}:${vm.availabilityZone}`, slots: limits.az });
  if (limits.account !== undefined && account !== undefined)
    needs.push({ level: 'account', key: `account:${account}`, slots: limits.account });
  return needs;
}

/**
 * Whether terminating a VM in this state disrupts anything (pure): a VM the cloud shows failed, stopped,
 * or already on its way out serves nothing, and its removal takes no lock (a dead VM must never wait
 * behind live ones to be replaced).
 */
export function terminateDisrupts(vm: Pick<Vm, 'state'> | undefined): boolean {
  if (!vm) return false;
  return (
    vm.state !== 'error' && vm.state !== 'stopped' && vm.state !== 'terminated' && vm.state !== 'deleting'
  );
}

/** `host:…:h1 held by i-1 for web/vm-7 (terminate)`: who keeps a lock busy, for reasons and events. */
export function waitReason(
  need: Pick<LockNeed, 'key' | 'slots'>,
  holders: readonly { owner: { instance: string; preset: string; vm: string; operation: string } }[],
): string {
  const who = holders
    .map((h) => `${h.owner.instance} for ${h.owner.preset}/${h.owner.vm} (${h.owner.operation})`)
    .join(', ');
  return `waiting for lock ${need.key} (${need.slots} at once): held by ${who || 'nobody now'}`;
}
