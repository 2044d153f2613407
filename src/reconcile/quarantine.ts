import type { IaasCapability } from '../drivers/types.js';
import type { QuarantinePolicy } from '../presets/preset.js';
import type { ClassifiedVm } from './classify.js';
import type { VmLifecycle } from './verbs.js';

// `healthcheck.quarantine` (docs/quarantine.md), pure: which unhealthy VMs about to be replaced are stopped
// and kept instead of deleted, and the lifecycle record that keeps them until their ttl.

/** An unhealthy VM stopped and kept instead of deleted; its replacement is created in the same manage. */
export interface Quarantine {
  vmId: string;
  /** The failing check, as the classification put it. */
  reason: string;
  /** Epoch ms when its ttl ends and it is deleted. */
  until: number;
  /** Its place among the VMs kept (1-based), and the most kept (`keep`). */
  slot: number;
  keep: number;
}

const NO_NOTES: ReadonlyMap<string, string> = new Map();

/** Stops into quarantine tried for one VM before it is deleted as usual (its cloud will not stop it). */
export const QUARANTINE_ATTEMPTS = 3;

/**
 * Of the unhealthy VMs the plan replaces, the first ones go to quarantine while fewer than `keep` VMs
 * are quarantined (counting those kept already); the others, those whose stop failed QUARANTINE_ATTEMPTS
 * times (`stopFailures`), and all of them when the cloud cannot stop a VM, are deleted as usual, each
 * with the reason why (`notes`, by VM id).
 */
export function quarantineSplit(
  policy: QuarantinePolicy | undefined,
  alive: readonly ClassifiedVm[],
  replaced: readonly ClassifiedVm[],
  capabilities: ReadonlySet<IaasCapability>,
  now: number,
  stopFailures?: ReadonlyMap<string, number>,
): { quarantine: Quarantine[]; terminate: ClassifiedVm[]; notes: ReadonlyMap<string, string> } {
  // Every manage of every preset comes here: the usual case (nothing replaced) allocates no notes.
  if (!policy || replaced.length === 0) return { quarantine: [], terminate: [...replaced], notes: NO_NOTES };
  const notes = new Map<string, string>();
  if (!capabilities.has('stop')) {
    for (const v of replaced)
      notes.set(v.vm.id, `${v.reason}; no quarantine: the cloud's driver cannot stop a VM`);
    return { quarantine: [], terminate: [...replaced], notes };
  }
  let held = alive.filter((v) => v.class === 'quarantined').length;
  const quarantine: Quarantine[] = [];
  const terminate: ClassifiedVm[] = [];
  for (const v of replaced) {
    const failed = stopFailures?.get(v.vm.id) ?? 0;
    if (failed >= QUARANTINE_ATTEMPTS || held >= policy.keep) {
      terminate.push(v);
      const why = failed >= QUARANTINE_ATTEMPTS ? `its stop failed ${failed} times` : 'quarantine full';
      notes.set(v.vm.id, `${v.reason}; ${why} (keep ${policy.keep})`);
      continue;
    }
    held++;
    quarantine.push({
      vmId: v.vm.id,
      reason: v.reason,
      until: now + policy.ttlMs,
      slot: held,
      keep: policy.keep,
    });
  }
  return { quarantine, terminate, notes };
}

/** The lifecycle record of a VM put in quarantine at `now`. */
export function quarantineRecord(q: Quarantine, now: number): VmLifecycle {
  return { state: 'quarantined', since: now, by: 'healthcheck', deleteAt: q.until, reason: q.reason };
}

/** The lifecycle records to save, with those of the VMs this manage stopped and kept. */
export function withQuarantined(
  kept: { lifecycle?: Record<string, VmLifecycle> },
  done: readonly Quarantine[] | undefined,
  now: number,
): { lifecycle?: Record<string, VmLifecycle> } {
  if (!done?.length) return kept;
  const lifecycle = { ...kept.lifecycle };
  for (const q of done) lifecycle[q.vmId] = quarantineRecord(q, now);
  return { lifecycle };
}

/** `vm-3 quarantined until 2026-12-05T10:00:00.000Z (keep 1 of 1), replaced: <reason>`, for plan and events. */
export function quarantineLine(q: Quarantine): string {
  return `${q.vmId} quarantined until ${new Date(q.until).toISOString()} (keep ${q.slot} of ${q.keep}), replaced: ${q.reason}`;
}
