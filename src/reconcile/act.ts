import type { Vm } from '../drivers/types.js';
import type { Preset } from '../presets/preset.js';
import {
  type ApplyContext,
  applyAdoptions,
  applyRemedies,
  applyTerminations,
  applyUpdates,
  type TerminationOutcome,
  type VerbOutcome,
} from './apply.js';
import { applyCreates, type CreateOutcome } from './apply-creates.js';
import { applyQuarantines } from './apply-quarantine.js';
import { DisruptionGate } from './disruption-gate.js';
import type { LeaseKeeper } from './lease-keeper.js';
import type { LockLevel } from './lock-keys.js';
import type { ManageDeps } from './manage-deps.js';
import type { Decision } from './observe.js';
import { createBudget, type InPlaceUpdate, type Remedy } from './plan.js';
import type { Quarantine } from './quarantine.js';
import type { EventSink } from './state.js';

/** What a manage's actions came to, by kind. */
export interface Acts {
  adoptions?: VerbOutcome<string>;
  terminations?: TerminationOutcome;
  creates?: CreateOutcome;
  remedies?: VerbOutcome<Remedy>;
  updates?: VerbOutcome<InPlaceUpdate>;
  quarantines?: VerbOutcome<Quarantine>;
}

/**
 * Carries out a plan: terminations first (they free room under the ceiling), then remedies and in-place
 * updates, then creates, capped by what the terminations actually freed.
 */
export async function act(
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
  [acts.remedies, acts.updates, acts.quarantines] = await Promise.all([
    applyRemedies(p.remedy, ctx, (r) => `step ${r.step + 1} of [${steps.join(', ')}]: ${r.reason}`),
    applyUpdates(p.update, ctx),
    applyQuarantines(p.quarantine, ctx),
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
export function gateFor(
  preset: Preset,
  deps: ManageDeps,
  lease: LeaseKeeper,
  record: EventSink,
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
export function lockWaitsOf(acts: Acts): { lockWaits?: Partial<Record<LockLevel, number>> } {
  const waits = [
    ...(acts.terminations?.waiting ?? []),
    ...(acts.remedies?.waiting ?? []),
    ...(acts.updates?.waiting ?? []),
    ...(acts.quarantines?.waiting ?? []),
  ];
  if (waits.length === 0) return {};
  const counts: Partial<Record<LockLevel, number>> = {};
  for (const { wait } of waits) counts[wait.level] = (counts[wait.level] ?? 0) + 1;
  return { lockWaits: counts };
}
