import { ShepherdError } from '../../../errors/shepherd-error.js';
import type { ServerGroupSpec } from '../../types.js';

/** Which group a VM of this preset joins: one per preset and policy, or the group named by id. Pure. */
export function groupKey(preset: string, group: ServerGroupSpec | undefined): string | undefined {
  if (!group) return undefined;
  return 'id' in group ? `id:${group.id}` : `${preset}:${group.policy}`;
}

/**
 * The zone a VM of a server group goes to in the simulated cloud, where each zone of the account is one
 * host: anti-affinity takes a zone no member holds (none left: no valid host, as Nova says it),
 * soft-anti-affinity the least used one, affinity and soft-affinity the zone of the members. `asked`: the
 * zone the create names (a spread), which the policy may refuse. Pure.
 */
export function groupZone(
  group: ServerGroupSpec | undefined,
  zones: readonly string[] | undefined,
  memberZones: readonly string[],
  asked: string | undefined,
): string | undefined {
  if (!group || 'id' in group || !zones?.length) return asked;
  const used = (z: string) => memberZones.filter((m) => m === z).length;
  const candidates = asked !== undefined ? [asked] : [...zones];
  switch (group.policy) {
    case 'anti-affinity': {
      const free = candidates.find((z) => used(z) === 0);
      if (free === undefined)
        throw new ShepherdError(
          'dummy_create_0002',
          `server group anti-affinity: every host${asked !== undefined ? ` of zone '${asked}'` : ''} holds a VM of the group`,
          { details: { group: group.policy, members: memberZones.length } },
        );
      return free;
    }
    case 'soft-anti-affinity':
      return candidates.reduce((a, b) => (used(b) < used(a) ? b : a));
    default:
      return asked ?? memberZones[0] ?? candidates[0];
  }
}
