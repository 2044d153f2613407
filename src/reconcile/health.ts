import type { HealthResult, Vm } from '../drivers/types.js';
import type { HealthPolicy } from '../presets/preset.js';
import type { VmHealth, VmSnapshot } from './state.js';

/** Health by VM id, as a manage reads and folds it. */
export type HealthById = ReadonlyMap<string, VmHealth>;

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
  previous: HealthById,
  vms: readonly Vm[],
  results: ReadonlyMap<string, HealthResult>,
  policy: HealthPolicy,
  now: number,
  historyLength: number,
): HealthById {
  // The steady state first: when every VM kept its record (and none was lost), the previous record
  // object is handed back and nothing is allocated. Otherwise the records are built (healthOf is pure,
  // so the second pass gives the same records as the first).
  let kept = 0;
  let unchanged = true;
  for (const vm of vms) {
    const prev = previous.get(vm.id);
    const h = healthOf(prev, vm, results.get(vm.id), policy, now, historyLength);
    if (h !== prev) {
      unchanged = false;
      break;
    }
    if (h !== undefined) kept++;
  }
  if (unchanged && kept === previous.size) return previous;
  const next = new Map<string, VmHealth>();
  for (const vm of vms) {
    const h = healthOf(previous.get(vm.id), vm, results.get(vm.id), policy, now, historyLength);
    if (h) next.set(vm.id, h);
  }
  return next;
}

/** The VM's health after this check (`prev` itself when nothing changed); undefined: never checked. */
function healthOf(
  prev: VmHealth | undefined,
  vm: Vm,
  result: HealthResult | undefined,
  policy: HealthPolicy,
  now: number,
  historyLength: number,
): VmHealth | undefined {
  if (!result) return prev;
  // The steady state (healthy again, nothing else changed) is decided without allocating anything.
  if (prev && stillHealthy(prev, result, historyLength)) return prev;
  let failures = prev?.failures ?? 0;
  let failingSince = prev?.failingSince ?? null;
  let healthySince = prev?.healthySince;
  if (result.verdict === 'healthy') {
    failures = 0;
    failingSince = null;
    healthySince ??= now;
  } else if (result.verdict === 'unhealthy') {
    healthySince = undefined;
    const inGrace = now - Date.parse(vm.createdAt) < policy.startupGrace * 1000;
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
  if (same) return prev;
  return {
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

/**
 * The health the last manage left, by VM id. It is saved once, in each VM's snapshot: a record keyed by
 * VM id beside the snapshots held the same objects again under keys V8 keeps as extra (internalized)
 * copies of every VM id, in a dictionary per preset (docs/performance.md).
 */
export function healthOfSnapshots(vms: readonly VmSnapshot[]): HealthById {
  const byId = new Map<string, VmHealth>();
  for (const v of vms) if (v.health) byId.set(v.id, v.health);
  return byId;
}

/** A healthy VM checked healthy again whose history is already a full run of successes. */
function stillHealthy(prev: VmHealth, result: HealthResult, historyLength: number): boolean {
  return (
    result.verdict === 'healthy' &&
    prev.verdict === 'healthy' &&
    prev.failures === 0 &&
    prev.failingSince === null &&
    prev.healthySince !== undefined &&
    prev.reason === result.reason &&
    prev.code === result.code &&
    prev.history.length === historyLength &&
    prev.history[0] === MARK.healthy &&
    runs.get(prev.history) === prev.history
  );
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
