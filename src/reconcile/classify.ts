import { META_SPEC, type Vm } from '../drivers/types.js';
import type { Preset } from '../presets/preset.js';
import type { HealthById } from './health.js';
import type { VmHealth } from './state.js';
import type { VmLifecycle } from './verbs.js';

/**
 * What the loop makes of a VM. The original's states map as: running, pending, unknown; dead
 * (terminated, error, stopped); expiring = nearby_shutdown; expired = after_time_shutdown;
 * unhealthy = failing past threshold and delay; stuck = pending longer than boot_timeout.
 */
export type VmClass =
  | 'running'
  | 'pending'
  | 'unknown'
  | 'unhealthy'
  | 'expiring'
  | 'expired'
  | 'dead'
  | 'stuck'
  /** Stopped by an operator's quiesce: kept, counted, left alone. */
  | 'quiesced'
  /** Stopped by an operator's scrub: not counted, deleted when its grace ends unless restored. */
  | 'scrubbing'
  /** A scrubbing VM whose grace ended: deleted now. */
  | 'scrubbed'
  /** Unhealthy, stopped and kept for a look (`healthcheck.quarantine`): not counted, deleted after its ttl. */
  | 'quarantined'
  /** A quarantined VM whose ttl ended: deleted now. */
  | 'quarantine_expired'
  /** Terminated by an operator on a preset with a before_terminate hook: the loop deletes it after the hook. */
  | 'terminating'
  /** Being deleted (the cloud says so, or this preset's manage deleted it moments ago): left alone, not counted. */
  | 'deleting';

export interface ClassifiedVm {
  vm: Vm;
  class: VmClass;
  reason: string;
  /** Failing its checks now (a streak of at least one counted failure): counted by the mass-deletion guard. */
  failing: boolean;
  health: VmHealth | undefined;
  /** Built from another spec than the preset's current one (image, flavor, network, key, userdata). */
  outdated: boolean;
  /** Running and passing its checks for `update.min_ready`: counts as available during a rollout. */
  ready: boolean;
}

/** Classes that are gone or going: terminated this cycle and not counted towards `count`. */
export const DOOMED: ReadonlySet<VmClass> = new Set([
  'dead',
  'expired',
  'stuck',
  'scrubbed',
  'quarantine_expired',
  'terminating',
]);

/** How long a VM this preset deleted is taken as on its way out while the cloud still lists it. */
export const DELETE_PATIENCE_MS = 300_000;

/** Classes an operator's verb (or the quarantine) put a VM in: the loop neither checks, remedies nor rolls them. */
export const HELD: ReadonlySet<VmClass> = new Set(['quiesced', 'scrubbing', 'quarantined']);

export function classify(
  preset: Preset,
  vms: readonly Vm[],
  health: HealthById,
  now: number,
  lifecycle: Readonly<Record<string, VmLifecycle>> = {},
  deleting: Readonly<Record<string, number>> = {},
): ClassifiedVm[] {
  return vms.map((vm) => {
    const h = health.get(vm.id);
    const held = deletingClass(vm, deleting[vm.id], now) ?? heldClass(vm, lifecycle[vm.id], now);
    const failing = !held && (h?.failures ?? 0) > 0;
    const [cls, reason] = held ?? classOf(preset, vm, h, now);
    const spec = vm.metadata[META_SPEC];
    // A VM without a spec hash (not built by vmshepherd) is never replaced for drift.
    const outdated = !held && spec !== undefined && spec !== preset.specHash;
    return { vm, class: cls, reason, failing, health: h, outdated, ready: isReady(preset, vm, cls, h, now) };
  });
}

/**
 * A VM on its way out: the cloud says it is being deleted, or this preset deleted it (at `deletedAt`)
 * and the cloud still lists it, for a while and unless it went to ERROR (then the delete failed).
 */
function deletingClass(vm: Vm, deletedAt: number | undefined, now: number): [VmClass, string] | undefined {
  if (vm.state === 'deleting') return ['deleting', `${vm.providerStatus ?? 'deleting'} (being deleted)`];
  if (deletedAt === undefined || vm.state === 'error' || now - deletedAt > DELETE_PATIENCE_MS)
    return undefined;
  return ['deleting', `deleted at ${new Date(deletedAt).toISOString()}, still listed`];
}

/** The class an operator's verb gives a VM, unless the cloud says it is gone or broken. */
function heldClass(vm: Vm, l: VmLifecycle | undefined, now: number): [VmClass, string] | undefined {
  if (!l || vm.state === 'terminated' || vm.state === 'error') return undefined;
  const who = `by ${l.by} at ${new Date(l.since).toISOString()}`;
  if (l.state === 'quiesced') return ['quiesced', `quiesced ${who}`];
  if (l.state === 'quarantined') return quarantineClass(l, now);
  if (l.state === 'terminating') return ['terminating', `terminated ${who}`];
  if (l.deleteAt !== undefined && now >= l.deleteAt) return ['scrubbed', `scrubbed ${who}, grace ended`];
  return [
    'scrubbing',
    `scrubbed ${who}; deleted at ${new Date(l.deleteAt ?? now).toISOString()} unless restored`,
  ];
}

/** A quarantined VM: kept until its ttl (`deleteAt`), then deleted. */
function quarantineClass(l: VmLifecycle, now: number): [VmClass, string] {
  const until = new Date(l.deleteAt ?? now).toISOString();
  const why = l.reason ? `: ${l.reason}` : '';
  if (l.deleteAt === undefined || now >= l.deleteAt)
    return [
      'quarantine_expired',
      `quarantined at ${new Date(l.since).toISOString()}, ttl ended at ${until}${why}`,
    ];
  return ['quarantined', `quarantined at ${new Date(l.since).toISOString()} until ${until}${why}`];
}

function isReady(preset: Preset, vm: Vm, cls: VmClass, h: VmHealth | undefined, now: number): boolean {
  if (cls !== 'running') return false;
  const since = preset.healthcheck
    ? h?.verdict === 'healthy' && h.failures === 0
      ? h.healthySince
      : undefined
    : Date.parse(vm.createdAt);
  return since !== undefined && now - since >= preset.update.minReadyMs;
}

function classOf(preset: Preset, vm: Vm, h: VmHealth | undefined, now: number): [VmClass, string] {
  if (vm.state === 'terminated' || vm.state === 'error' || vm.state === 'stopped') {
    return ['dead', `${vm.providerStatus ?? vm.state}${vm.fault ? `: ${vm.fault}` : ''}`];
  }
  if (vm.timedShutdownAt !== undefined && vm.timedShutdownAt <= now) {
    return ['expired', `iaas_timed_shutdown passed at ${new Date(vm.timedShutdownAt).toISOString()}`];
  }
  if (vm.state === 'pending') {
    const age = now - Date.parse(vm.createdAt);
    if (age > preset.bootTimeoutMs)
      return [
        'stuck',
        `pending for ${Math.round(age / 1000)}s (boot_timeout ${preset.bootTimeoutMs / 1000}s)`,
      ];
    return ['pending', vm.providerStatus ?? 'pending'];
  }
  if (vm.timedShutdownAt !== undefined && vm.timedShutdownAt - preset.iaas.shutdownGraceMs <= now) {
    return ['expiring', `iaas_timed_shutdown at ${new Date(vm.timedShutdownAt).toISOString()}`];
  }
  if (h && preset.healthcheck && replaceable(h, preset.healthcheck.policy, vm, now)) {
    return [
      'unhealthy',
      `${h.failures} failed checks since ${new Date(h.failingSince ?? now).toISOString()}: ${h.reason ?? ''}`,
    ];
  }
  if (vm.state === 'unknown') return ['unknown', vm.providerStatus ?? 'unknown'];
  return ['running', vm.providerStatus ?? 'running'];
}

function replaceable(
  h: VmHealth,
  policy: { unhealthyThreshold: number; failedDelay: number; startupGrace: number },
  vm: Vm,
  now: number,
): boolean {
  if (policy.failedDelay < 0) return false; // the original's -1: never replace for failed checks
  if (h.failures < policy.unhealthyThreshold || h.failingSince === null) return false;
  if (now - h.failingSince < policy.failedDelay * 1000) return false;
  return now - Date.parse(vm.createdAt) >= policy.startupGrace * 1000;
}
