/**
 * Where the simulated cloud has room: the images and flavors it offers, the instance quota, capacity per
 * flavor and per zone (one host per zone), and which zone a server group's next VM goes to. Pure over the
 * VMs given.
 */
import { ShepherdError } from '../../../errors/shepherd-error.js';
import type { VmSpec } from '../../types.js';
import { groupZone } from './group-hosts.js';
import type { DummyOptions } from './options.js';
import type { SimVm } from './sim-vm.js';

/** Refuses an image or flavor the cloud does not offer, and a create past the instance quota. */
export function checkCatalog(o: DummyOptions, spec: VmSpec, used: number): void {
  if (o.images && spec.image && !o.images.includes(spec.image)) {
    throw new ShepherdError('dummy_create_0003', `image '${spec.image}'`, {
      details: { image: spec.image },
    });
  }
  if (o.flavors && spec.flavor && !o.flavors.includes(spec.flavor)) {
    throw new ShepherdError('dummy_create_0003', `flavor '${spec.flavor}'`, {
      details: { flavor: spec.flavor },
    });
  }
  if (o.quota && used >= o.quota.instances) {
    throw new ShepherdError('dummy_create_0001', `${used} of ${o.quota.instances} instances used`, {
      details: { used, limit: o.quota.instances },
    });
  }
}

/** No valid host when `extra` more VMs of the flavor would pass its capacity (`capacity:`). */
export function checkFlavor(
  vms: ReadonlyMap<string, SimVm>,
  o: DummyOptions,
  flavor: string,
  extra: number,
): void {
  const limit = o.capacity?.[flavor];
  if (limit === undefined) return;
  let used = extra;
  for (const vm of vms.values()) if (vm.flavor === flavor && vm.noHost === undefined) used++;
  if (used >= limit) {
    throw new ShepherdError('dummy_create_0002', `flavor '${flavor}': ${used} of ${limit} hosts used`, {
      details: { flavor, used, limit },
    });
  }
}

/** The zones (hosts) of the group's VMs that hold a host: not failed for capacity, not deleted. */
export function memberZones(vms: ReadonlyMap<string, SimVm>, group: string | undefined): string[] {
  if (group === undefined) return [];
  const out: string[] = [];
  for (const vm of vms.values())
    if (
      vm.group === group &&
      vm.noHost === undefined &&
      vm.goneAt === undefined &&
      vm.network.availabilityZone
    )
      out.push(vm.network.availabilityZone);
  return out;
}

/**
 * A zone the account does not have fails as Nova does; a full zone has no valid host. `limit`: the zone's
 * capacity as changed at run time (null: unlimited), else `zone_capacity`.
 */
export function checkZone(
  vms: ReadonlyMap<string, SimVm>,
  o: DummyOptions,
  zone: string,
  limit: number | null | undefined,
): void {
  if (o.zones && !o.zones.includes(zone)) {
    throw new ShepherdError('dummy_create_0003', `availability zone '${zone}'`, { details: { zone } });
  }
  if (limit === undefined || limit === null) return;
  let used = 0;
  for (const vm of vms.values()) if (vm.network.availabilityZone === zone && vm.noHost === undefined) used++;
  if (used >= limit) {
    throw new ShepherdError('dummy_create_0002', `zone '${zone}': ${used} of ${limit} hosts used`, {
      details: { zone, used, limit },
    });
  }
}

/**
 * The zone a new VM goes to (its group's policy first, then the spec's zone, then the first zone), and,
 * with `no_valid_host: boot`, why no host takes it: Nova takes the create and fails the server then.
 */
export function placeVm(
  vms: ReadonlyMap<string, SimVm>,
  o: DummyOptions,
  spec: VmSpec,
  group: string | undefined,
  zoneLimit: (zone: string) => number | null | undefined,
): { zone: string | undefined; noHost?: string } {
  let zone = spec.network.availabilityZone ?? o.zones?.[0];
  try {
    zone =
      groupZone(spec.serverGroup, o.zones, memberZones(vms, group), spec.network.availabilityZone) ?? zone;
    if (spec.flavor) checkFlavor(vms, o, spec.flavor, 0);
    if (zone !== undefined) checkZone(vms, o, zone, zoneLimit(zone));
  } catch (err) {
    const capacity = err instanceof ShepherdError && err.code === 'dummy_create_0002';
    if (!capacity || o.no_valid_host !== 'boot') throw err;
    return { zone, noHost: err.message };
  }
  return { zone };
}
