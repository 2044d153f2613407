import type { Preset } from '../presets/preset.js';
import type { ClassifiedVm } from './classify.js';

/**
 * Creates of a preset in a hard server group (anti-affinity, affinity), one at a time. The scheduler places
 * each VM against the hosts the group's members hold: VMs scheduled at once, or beside a member still being
 * deleted, race for the same hosts, and Nova's late check fails them ("policy was violated", then "no valid
 * host"), which would read as a capacity limit that is not there. So a create waits until no VM of the
 * preset is booting or being deleted, none is deleted in this manage, and then only one is made. Pure.
 */
export function pacedCreates(
  preset: Pick<Preset, 'serverGroup'>,
  create: number,
  vms: readonly Pick<ClassifiedVm, 'class'>[],
  terminating: number,
): number {
  const g = preset.serverGroup;
  if (create === 0 || !g || !('policy' in g) || g.policy.startsWith('soft-')) return create;
  if (terminating > 0 || vms.some((v) => v.class === 'pending' || v.class === 'deleting')) return 0;
  return 1;
}
