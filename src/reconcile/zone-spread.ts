import { META_ZONE, type Vm } from '../drivers/types.js';

/** The zone a VM is in: what the cloud reports, else the zone it was created for (a VM still scheduling). */
export function zoneOf(vm: Vm): string | undefined {
  return vm.availabilityZone || vm.metadata[META_ZONE] || undefined;
}

/** VMs per zone of the spread (every zone present, zero or more); VMs in other zones are not counted. */
export function zoneCounts(zones: readonly string[], vms: readonly Vm[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const z of zones) counts[z] = 0;
  for (const vm of vms) {
    const z = zoneOf(vm);
    if (z !== undefined && counts[z] !== undefined) counts[z]++;
  }
  return counts;
}

/**
 * The zone of each of `n` creates (pure): each goes to the zone with the fewest VMs, counting the creates
 * before it, among the zones not skipped; ties go to the zone listed first. When every zone is skipped,
 * all of them are candidates again (the create backoff decides whether to try).
 */
export function zonesForCreates(
  zones: readonly string[],
  counts: Readonly<Record<string, number>>,
  skipped: readonly string[],
  n: number,
): string[] {
  const open = zones.filter((z) => !skipped.includes(z));
  const candidates = open.length > 0 ? open : zones;
  const have = Object.fromEntries(candidates.map((z) => [z, counts[z] ?? 0]));
  const out: string[] = [];
  for (let i = 0; i < n && candidates.length > 0; i++) {
    let best = candidates[0] as string;
    for (const z of candidates) if ((have[z] as number) < (have[best] as number)) best = z;
    out.push(best);
    have[best] = (have[best] as number) + 1;
  }
  return out;
}

/**
 * The same VMs in the order scale-in takes them (pure): each next one from the zone that has the most
 * VMs left (ties: the zone listed first), the first of that zone in `ordered` (the preset's scale_in_order).
 * VMs outside the spread's zones go first: the spread has no place for them.
 */
export function spreadScaleInOrder<T>(
  ordered: readonly T[],
  vmOf: (item: T) => Vm,
  zones: readonly string[],
): T[] {
  const byZone = new Map<string, T[]>(zones.map((z) => [z, []]));
  const outside: T[] = [];
  for (const item of ordered) {
    const z = zoneOf(vmOf(item));
    const list = z === undefined ? undefined : byZone.get(z);
    if (list) list.push(item);
    else outside.push(item);
  }
  const out = [...outside];
  for (;;) {
    let best: T[] | undefined;
    for (const z of zones) {
      const list = byZone.get(z) as T[];
      if (list.length > 0 && (!best || list.length > best.length)) best = list;
    }
    if (!best) return out;
    out.push(best.shift() as T);
  }
}

/**
 * Whether the spread is uneven beyond rounding among the zones not skipped (pure): the zone with the
 * most VMs has two or more than the one with the fewest. Then one VM moves: a new one in `to`, and
 * scale-in takes the surplus from the zone with the most.
 */
export function imbalance(
  zones: readonly string[],
  counts: Readonly<Record<string, number>>,
  skipped: readonly string[],
): { from: string; to: string } | null {
  const open = zones.filter((z) => !skipped.includes(z));
  if (open.length < 2) return null;
  let most = open[0] as string;
  let fewest = open[0] as string;
  for (const z of open) {
    if ((counts[z] ?? 0) > (counts[most] ?? 0)) most = z;
    if ((counts[z] ?? 0) < (counts[fewest] ?? 0)) fewest = z;
  }
  return (counts[most] ?? 0) - (counts[fewest] ?? 0) > 1 ? { from: most, to: fewest } : null;
}

/** `nova 2, az1 2, az2 1 (skipped)`: a spread for people. */
export function spreadLine(
  zones: readonly string[],
  counts: Readonly<Record<string, number>>,
  skipped: readonly string[],
): string {
  return zones.map((z) => `${z} ${counts[z] ?? 0}${skipped.includes(z) ? ' (skipped)' : ''}`).join(', ');
}
