import { META_REVISION, META_SPEC, type Vm } from '../drivers/types.js';
import type { ShepherdError } from '../errors/shepherd-error.js';
import type { Preset } from '../presets/preset.js';
import type { CreateOutcome, TerminationOutcome } from './apply.js';
import type { ClassifiedVm } from './classify.js';
import type { Plan } from './plan.js';
import type { PresetStatus, VmHealth, VmSnapshot } from './state.js';

/**
 * The VMs after this manage's actions: terminated ones removed, created ones added as `pending`. A VM
 * that looks exactly as in the previous snapshot keeps its snapshot object (steady presets allocate
 * nothing per VM).
 */
export function snapshotAfter(
  classified: readonly ClassifiedVm[],
  terminations: TerminationOutcome | undefined,
  creates: CreateOutcome | undefined,
  previous: readonly VmSnapshot[] = [],
): VmSnapshot[] {
  const gone = new Set(terminations?.done.map((t) => t.vmId));
  const before = new Map(previous.map((s) => [s.id, s]));
  const kept = classified
    .filter((c) => !gone.has(c.vm.id))
    .map((c) => reuse(before.get(c.vm.id), snapshotOf(c.vm, c.class, c.health)));
  const created = (creates?.created ?? []).map((vm) => snapshotOf(vm, 'pending', undefined));
  return [...kept, ...created];
}

function reuse(old: VmSnapshot | undefined, next: VmSnapshot): VmSnapshot {
  if (!old) return next;
  const keys = Object.keys(next) as (keyof VmSnapshot)[];
  if (keys.length !== Object.keys(old).length) return next;
  for (const k of keys) {
    const a = old[k];
    const b = next[k];
    if (a === b) continue;
    if (
      k === 'ips' &&
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((x, i) => x === b[i])
    )
      continue;
    return next;
  }
  return old;
}

function snapshotOf(vm: Vm, state: string, health: VmHealth | undefined): VmSnapshot {
  const spec = vm.metadata[META_SPEC];
  const revision = vm.metadata[META_REVISION];
  return {
    id: vm.id,
    name: vm.name,
    state,
    ...(vm.providerStatus ? { providerStatus: vm.providerStatus } : {}),
    ips: vm.ips,
    createdAt: vm.createdAt,
    ...(spec ? { specHash: spec } : {}),
    ...(revision ? { revision } : {}),
    ...(vm.image ? { image: vm.image } : {}),
    ...(vm.flavor ? { flavor: vm.flavor } : {}),
    ...(vm.fault ? { fault: vm.fault } : {}),
    ...(vm.timedShutdownAt !== undefined ? { timedShutdownAt: vm.timedShutdownAt } : {}),
    ...(health ? { health } : {}),
  };
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
  const failingVms = vms.filter((v) => (v.health?.failures ?? 0) > 0).length;
  const base = { desired: preset.count, counts, guard: p.guard.active };
  const summary = `${running}/${preset.count} running${counts.pending ? `, ${counts.pending} pending` : ''}${failingVms ? `, ${failingVms} failing checks` : ''}`;
  if (preset.unmanaged) return { ...base, phase: 'unmanaged', message: `unmanaged: ${summary}` };
  if (paused)
    return {
      ...base,
      phase: 'paused',
      message: `paused by ${paused.by} at ${new Date(paused.at).toISOString()}: ${summary}`,
    };
  const failure = failures[0];
  if (failure)
    return { ...base, phase: 'failing', code: failure.code, message: `${summary}; ${failure.message}` };
  if (p.guard.active) {
    return {
      ...base,
      phase: 'degraded',
      code: 'reconcile_guard_0001',
      message: `${summary}; mass-deletion guard: ${p.guard.failing} of ${p.guard.total} VMs fail their checks (max_unhealthy allows ${p.guard.limit})`,
    };
  }
  const block = p.createBlocked;
  if (block) {
    const until = new Date(block.until).toISOString();
    return {
      ...base,
      phase: 'failing',
      code: block.code,
      message: `${summary}; creation waits until ${until}: ${block.reason}`,
    };
  }
  const r = p.rollout;
  if (r.paused)
    return {
      ...base,
      phase: 'degraded',
      code: 'reconcile_rollout_0001',
      message: `${summary}; rollout paused: ${r.paused}`,
    };
  if (failingVms > 0 || (counts.unhealthy ?? 0) > 0) return { ...base, phase: 'degraded', message: summary };
  if (r.active) {
    const how = r.fallback ? ' (in_place not possible here: replacing)' : '';
    return {
      ...base,
      phase: 'converging',
      message: `${summary}; rolling out spec ${preset.specHash}${how}: ${r.outdated} outdated, ${r.ready} ready (min ${r.minReady})`,
    };
  }
  // Expiring VMs may linger beside their replacements until their shutdown time.
  const others = vms.length - running - (counts.expiring ?? 0);
  const settled = running === preset.count && others === 0 && !acted;
  return { ...base, phase: settled ? 'converged' : 'converging', message: summary };
}
