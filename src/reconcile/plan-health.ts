import type { IaasCapability } from '../drivers/types.js';
import { type Preset, resolveCountOrPercent } from '../presets/preset.js';
import type { ClassifiedVm } from './classify.js';
import type { FleetCounts } from './fleet-guard.js';
import type { GuardVerdict, Remedy } from './plan-types.js';

// The plan's health decisions: which unhealthy VMs are remedied or replaced, and the guards that hold it.

/** The remedy step for an unhealthy VM, or null when it is replaced (last step, or the cloud cannot do it). */
export function remedyFor(
  preset: Preset,
  v: ClassifiedVm,
  capabilities: ReadonlySet<IaasCapability>,
): Remedy | null {
  const steps = preset.healthcheck?.policy.remedies ?? ['replace'];
  const index = Math.min(v.health?.remedied ?? 0, steps.length - 1);
  const action = steps[index];
  if ((action === 'reboot' || action === 'rebuild') && capabilities.has(action)) {
    return { vmId: v.vm.id, action, step: index, reason: v.reason };
  }
  return null;
}

/**
 * The unhealthy VMs remedied or replaced now. Nothing while the fleet-wide guard holds (correlated
 * failure); while the preset's own guard is on, one at a time (the one failing longest, once no VM of the
 * preset is still booting), so that a small preset is always healed; otherwise all of them.
 */
export function healthVictims(alive: readonly ClassifiedVm[], guard: GuardVerdict): ClassifiedVm[] {
  if (guard.fleet?.active) return [];
  const unhealthy = alive.filter((v) => v.class === 'unhealthy');
  if (!guard.active) return unhealthy;
  if (alive.some((v) => v.class === 'pending')) return [];
  const longest = [...unhealthy].sort(
    (a, b) => (a.health?.failingSince ?? 0) - (b.health?.failingSince ?? 0),
  )[0];
  return longest ? [longest] : [];
}

/** Which guard holds the preset's health replacements back, if any (the fleet's where it has failing VMs). */
export function guardHolding(g: GuardVerdict): 'fleet' | 'preset' | null {
  if (g.fleet?.active && g.failing > 0) return 'fleet';
  return g.active ? 'preset' : null;
}

export function ownCounts(vms: readonly ClassifiedVm[]): FleetCounts {
  let checked = 0;
  let failing = 0;
  for (const v of vms) {
    if (!v.health || v.health.verdict === null) continue;
    checked++;
    if (v.failing) failing++;
  }
  return { checked, failing };
}

/**
 * When more of a preset's VMs fail their checks at once than `max_unhealthy` allows, the cause may be
 * the network or the check rather than the VMs: they are replaced one at a time (see healthVictims).
 */
export function massDeletionGuard(preset: Preset, alive: readonly ClassifiedVm[]): GuardVerdict {
  const total = alive.length;
  const failing = alive.filter((v) => v.failing).length;
  const limit = preset.healthcheck
    ? resolveCountOrPercent(preset.healthcheck.policy.maxUnhealthy, total)
    : total;
  return { active: failing > 0 && failing > limit, failing, total, limit };
}
