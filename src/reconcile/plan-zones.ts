import type { Preset } from '../presets/preset.js';
import type { CreateBlock } from './backoff.js';
import { fixedZone, fullZones, skipsCapacity } from './capacity-skips.js';
import type { ClassifiedVm } from './classify.js';
import type { PlanContext, PlanZones } from './plan-types.js';
import { imbalance, zoneCounts, zonesForCreates } from './zone-spread.js';

/**
 * Creates go to the zone with the fewest VMs. Rebalancing (a zone came back, or the list grew) moves one
 * VM at a time, and only in a steady preset: a new VM first (within max_surge), then scale-in takes the
 * surplus from the fullest zone once the new one is ready (within max_unavailable).
 */
export function zonePlan(
  preset: Preset,
  ctx: PlanContext,
  serving: readonly ClassifiedVm[],
  create: number,
  active: boolean,
  room: number,
): { zones: PlanZones; rebalance?: string } {
  const counts = zoneCounts(
    preset.zones,
    serving.map((v) => v.vm),
  );
  const skipped = fullZones(preset.zones, preset.flavors, ctx.capacity ?? [], ctx.now);
  const uneven = imbalance(preset.zones, counts, skipped);
  const steady =
    create === 0 && !active && serving.length === preset.count && serving.every((v) => v.class !== 'pending');
  const moving = uneven && steady && room > 0;
  const creates = moving ? 1 : create;
  return {
    zones: {
      counts,
      skipped,
      creates: zonesForCreates(preset.zones, counts, skipped, creates),
      ...(moving ? { rebalance: uneven } : {}),
    },
    ...(moving
      ? {
          rebalance: `rebalance: ${uneven.from} has ${counts[uneven.from]} VMs, ${uneven.to} ${counts[uneven.to]}`,
        }
      : {}),
  };
}

/**
 * With fallbacks (a flavor list or a zone spread) or a server group, creates wait while every flavor is full
 * in every zone: until the first of those skips ends.
 */
export function everywhereFull(preset: Preset, ctx: PlanContext): CreateBlock | null {
  const skips = ctx.capacity;
  if (!skips?.length || !skipsCapacity(preset)) return null;
  const zones = preset.zones.length > 1 ? preset.zones : [fixedZone(preset)];
  if (fullZones(zones, preset.flavors, skips, ctx.now).length < zones.length) return null;
  const live = skips.filter((s) => s.until > ctx.now);
  const first = live.reduce((a, b) => (b.until < a.until ? b : a));
  return {
    key: 'capacity:everywhere',
    failures: live.length,
    until: first.until,
    code: first.code ?? 'reconcile_create_0001',
    reason: `no capacity for any flavor of the list in any zone; first: ${first.reason}`,
  };
}
