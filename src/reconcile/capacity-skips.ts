import type { Vm } from '../drivers/types.js';
import { CODES } from '../errors/codes.js';
import type { Preset } from '../presets/preset.js';
import { zoneOf } from './zone-spread.js';

/**
 * A flavor found without capacity in a zone (a create answered "no valid host", or a VM went to ERROR with
 * that fault): creates there use the next flavor of the preset's list until `until` (epoch ms). A zone
 * where every flavor of the list is full is skipped by the spread. `zone` is '' for a preset that leaves
 * the zone to the cloud, `flavor` '' for one without a flavor.
 */
export interface CapacitySkip {
  zone: string;
  flavor: string;
  until: number;
  reason: string;
  code?: string;
}

export type CapacitySkips = readonly CapacitySkip[];

/** A placement found full now: what a create or a VM's fault said. */
export interface CapacityFound {
  zone: string;
  flavor: string;
  reason: string;
  code?: string;
}

/**
 * Whether VMs failed for capacity make the preset skip that placement for a window: with fallbacks (a flavor
 * list, a zone spread), or with a server group (whose policy the hosts may not meet: replacing such a VM at
 * once would only fail again, in a loop). The single forms without a group keep the original's behaviour:
 * a failed VM is replaced.
 */
export function skipsCapacity(preset: Pick<Preset, 'zones' | 'flavors' | 'serverGroup'>): boolean {
  return preset.zones.length > 1 || preset.flavors.length > 1 || preset.serverGroup !== undefined;
}

/** The zone key of creates of this preset when it does not spread: its one zone, or none (''). */
export function fixedZone(preset: Pick<Preset, 'zones'>): string {
  return preset.zones.length === 1 ? (preset.zones[0] as string) : '';
}

/** The flavors to try in `zone`, in order: those not full there; when all are full, the whole list. */
export function flavorsFor(
  flavors: readonly string[],
  zone: string,
  skips: CapacitySkips,
  now: number,
): string[] {
  const open = flavors.filter((f) => !skips.some((s) => s.zone === zone && s.flavor === f && s.until > now));
  return open.length > 0 ? open : [...flavors];
}

/** The zones of a spread where every flavor of the list is full (in the spread's order). */
export function fullZones(
  zones: readonly string[],
  flavors: readonly string[],
  skips: CapacitySkips,
  now: number,
): string[] {
  if (skips.length === 0) return [];
  const list = flavors.length > 0 ? flavors : [''];
  return zones.filter((z) =>
    list.every((f) => skips.some((s) => s.zone === z && s.flavor === f && s.until > now)),
  );
}

const FAULT_CODE = /\[([a-z]+_[a-z]+_\d{4})\]\s*$/;

/**
 * VMs the cloud failed for capacity after accepting their create (Nova: ERROR, "No valid host was found"),
 * as the driver reports the fault (`... [openstack_create_0002]`): where they were and on which flavor.
 */
export function capacityFaults(
  preset: Pick<Preset, 'zones' | 'flavors' | 'serverGroup'>,
  vms: readonly Vm[],
): CapacityFound[] {
  const found: CapacityFound[] = [];
  if (!skipsCapacity(preset)) return found;
  for (const vm of vms) {
    if (vm.state !== 'error' || !vm.fault) continue;
    const code = FAULT_CODE.exec(vm.fault)?.[1];
    if (!code || (CODES as Record<string, { limit?: string }>)[code]?.limit !== 'capacity') continue;
    const zone = preset.zones.length > 1 ? (zoneOf(vm) ?? '') : fixedZone(preset);
    if (preset.zones.length > 1 && !preset.zones.includes(zone)) continue;
    const flavor =
      preset.flavors.find((f) => f === vm.flavor || f === vm.flavorId) ??
      (preset.flavors.length <= 1 ? (preset.flavors[0] ?? '') : undefined);
    if (flavor === undefined) continue;
    found.push({ zone, flavor, reason: `${vm.id}: ${vm.fault}`, code });
  }
  return found;
}

/** What changed: zones that became skipped, and flavors that became full in a zone that still has others. */
export interface SkipChanges {
  skips: CapacitySkip[];
  zonesSkipped: string[];
  flavorsSkipped: CapacityFound[];
}

/**
 * The skips after a manage (pure): ended ones dropped, the placements found full now added (or extended)
 * for `windowMs`, and the placements a VM was created on forgotten (there is room again).
 */
export function skipsAfter(
  before: CapacitySkips | undefined,
  found: readonly CapacityFound[],
  placed: readonly { zone: string; flavor: string }[],
  preset: Pick<Preset, 'zones' | 'flavors' | 'serverGroup'>,
  windowMs: number,
  now: number,
): SkipChanges {
  const zones = preset.zones.length > 1 ? preset.zones : [fixedZone(preset)];
  const wasFull = fullZones(zones, preset.flavors, before ?? [], now);
  const skips: CapacitySkip[] = (before ?? []).filter(
    (s) => s.until > now && !placed.some((p) => p.zone === s.zone && p.flavor === s.flavor),
  );
  const flavorsSkipped: CapacityFound[] = [];
  for (const f of found) {
    if (placed.some((p) => p.zone === f.zone && p.flavor === f.flavor)) continue;
    const i = skips.findIndex((s) => s.zone === f.zone && s.flavor === f.flavor);
    const entry: CapacitySkip = {
      zone: f.zone,
      flavor: f.flavor,
      until: now + windowMs,
      reason: f.reason,
      ...(f.code ? { code: f.code } : {}),
    };
    if (i >= 0) skips[i] = entry;
    else {
      skips.push(entry);
      if (!flavorsSkipped.some((x) => x.zone === f.zone && x.flavor === f.flavor)) flavorsSkipped.push(f);
    }
  }
  const nowFull = fullZones(zones, preset.flavors, skips, now);
  const zonesSkipped = preset.zones.length > 1 ? nowFull.filter((z) => !wasFull.includes(z)) : [];
  return {
    skips,
    zonesSkipped,
    // A flavor skipped in a zone skipped as a whole is told by the zone's event.
    flavorsSkipped: flavorsSkipped.filter(
      (f) =>
        !zonesSkipped.includes(f.zone) && (preset.flavors.length > 1 || preset.serverGroup !== undefined),
    ),
  };
}
