import { META_REVISION, META_SPEC, type Vm } from '../drivers/types.js';
import type { ShepherdError } from '../errors/shepherd-error.js';
import type { Preset } from '../presets/preset.js';
import type { CreateOutcome, TerminationOutcome } from './apply.js';
import type { ClassifiedVm } from './classify.js';
import type { Plan } from './plan.js';
import type { PresetStatus, VmHealth, VmSnapshot } from './state.js';

/** The VMs after this manage's actions: terminated ones removed, created ones added as `pending`. */
export function snapshotAfter(
  classified: readonly ClassifiedVm[],
  terminations: TerminationOutcome | undefined,
  creates: CreateOutcome | undefined,
): VmSnapshot[] {
  const gone = new Set(terminations?.done.map((t) => t.vmId));
  const kept = classified.filter((c) => !gone.has(c.vm.id)).map((c) => snapshotOf(c.vm, c.class, c.health));
  const created = (creates?.created ?? []).map((vm) => snapshotOf(vm, 'pending', undefined));
  return [...kept, ...created];
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
    ...(health
      ? {
          health: {
            failures: health.failures,
            ...(health.last?.verdict ? { verdict: health.last.verdict } : {}),
            ...(health.last?.reason ? { reason: health.last.reason } : {}),
            ...(health.last?.code ? { code: health.last.code } : {}),
            ...(health.failingSince !== null ? { since: health.failingSince } : {}),
          },
        }
      : {}),
  };
}

/** Where the preset stands after this manage, at a glance: the phase and, when failing, a code. */
export function presetStatus(
  preset: Preset,
  p: Plan,
  vms: readonly VmSnapshot[],
  failures: readonly ShepherdError[],
  acted: boolean,
): PresetStatus {
  const counts: Record<string, number> = {};
  for (const vm of vms) counts[vm.state] = (counts[vm.state] ?? 0) + 1;
  const running = counts.running ?? 0;
  const failingVms = vms.filter((v) => (v.health?.failures ?? 0) > 0).length;
  const base = { desired: preset.count, counts, guard: p.guard.active };
  const summary = `${running}/${preset.count} running${counts.pending ? `, ${counts.pending} pending` : ''}${failingVms ? `, ${failingVms} failing checks` : ''}`;
  if (preset.unmanaged) return { ...base, phase: 'unmanaged', message: `unmanaged: ${summary}` };
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
  if (failingVms > 0 || (counts.unhealthy ?? 0) > 0) return { ...base, phase: 'degraded', message: summary };
  // Expiring VMs may linger beside their replacements until their shutdown time.
  const others = vms.length - running - (counts.expiring ?? 0);
  const settled = running === preset.count && others === 0 && !acted;
  return { ...base, phase: settled ? 'converged' : 'converging', message: summary };
}
