import type { HealthResult, Vm } from '../drivers/types.js';
import type { HealthPolicy } from '../presets/preset.js';
import type { VmHealth } from './state.js';

const MARK = { healthy: 'h', unhealthy: 'u', unknown: '?' } as const;

/** VMs worth checking: those the cloud says are running (a booting VM cannot answer yet). */
export function healthTargets(vms: readonly Vm[]): Vm[] {
  return vms.filter((vm) => vm.state === 'running');
}

/**
 * Folds this cycle's check results into each VM's health. A success resets the streak (as in the
 * original); an `unknown` verdict changes nothing; failures within `startup_grace` of creation are
 * recorded but not counted. VMs no longer listed are forgotten.
 */
export function updateHealth(
  previous: Readonly<Record<string, VmHealth>>,
  vms: readonly Vm[],
  results: ReadonlyMap<string, HealthResult>,
  policy: HealthPolicy,
  now: number,
  historyLength: number,
): Record<string, VmHealth> {
  const next: Record<string, VmHealth> = {};
  for (const vm of vms) {
    const prev = previous[vm.id];
    const result = results.get(vm.id);
    if (!result) {
      if (prev) next[vm.id] = prev;
      continue;
    }
    const inGrace = now - Date.parse(vm.createdAt) < policy.startupGrace * 1000;
    let failures = prev?.failures ?? 0;
    let failingSince = prev?.failingSince ?? null;
    let healthySince = prev?.healthySince;
    if (result.verdict === 'healthy') {
      failures = 0;
      failingSince = null;
      healthySince ??= now;
    } else if (result.verdict === 'unhealthy') {
      healthySince = undefined;
      if (!inGrace) {
        failures += 1;
        failingSince ??= now;
      }
    }
    const history = intern(((prev?.history ?? '') + MARK[result.verdict]).slice(-historyLength));
    // A VM whose health did not change keeps its object: no garbage per VM and check in the steady state.
    const same =
      prev !== undefined &&
      prev.failures === failures &&
      prev.failingSince === failingSince &&
      prev.verdict === result.verdict &&
      prev.reason === result.reason &&
      prev.code === result.code &&
      prev.history === history &&
      prev.healthySince === healthySince;
    next[vm.id] = same
      ? prev
      : {
          failures,
          failingSince,
          verdict: result.verdict,
          ...(result.reason ? { reason: result.reason } : {}),
          ...(result.code ? { code: result.code } : {}),
          history,
          ...(healthySince !== undefined ? { healthySince } : {}),
          ...(prev?.remedied ? { remedied: prev.remedied } : {}),
        };
  }
  return next;
}

const runs = new Map<string, string>();

/**
 * Histories made of one mark ("hhhhhhhhhh", the steady state of almost every VM) are shared instead of
 * kept once per VM.
 */
function intern(history: string): string {
  const first = history[0];
  if (first === undefined || history !== first.repeat(history.length)) return history;
  let shared = runs.get(history);
  if (shared === undefined) {
    shared = history;
    runs.set(history, shared);
  }
  return shared;
}
