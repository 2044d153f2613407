/**
 * The simulated VM's life on a deterministic schedule from the seed: how long a boot, reboot, rebuild or
 * resize takes, which boots fail, when a VM dies, and what a new VM looks like (id, address, timers).
 */
import { unitHash } from '../../../util/seeded.js';
import { META_IDEMPOTENCY, META_TIMED_SHUTDOWN, type VmSpec } from '../../types.js';
import type { DummyOptions, Range } from './options.js';
import type { SimVm } from './sim-vm.js';

/** A value of a range, at `u` (0..1) between its ends. */
export function pick(r: Range, u: number): number {
  return typeof r === 'number' ? r : r.min + (r.max - r.min) * u;
}

/** Exponentially distributed lifetime from the VM's id: the same seed kills the same VMs at the same age. */
export function deathTime(o: DummyOptions, id: string, from: number): number | null {
  if (o.death_rate <= 0) return null;
  const u = unitHash(o.seed, 'death', id);
  return from + (-Math.log(1 - u) / o.death_rate) * 3_600_000;
}

export function brokenImage(o: DummyOptions, image: string | undefined): boolean {
  return image !== undefined && (o.broken_images?.includes(image) ?? false);
}

/** Starts a task on the VM (reboot, rebuild, resize): it runs a boot's time, and may fail or die again. */
export function restartTask(o: DummyOptions, vm: SimVm, task: SimVm['task'], now: number): void {
  vm.task = task;
  vm.readyAt = now + pick(o.boot_time, unitHash(o.seed, 'boot', vm.id, now)) * 1000;
  vm.diesAt = deathTime(o, `${vm.id}:${now}`, vm.readyAt);
  vm.bootFails = brokenImage(o, vm.image);
}

/** What a new VM is made of, besides its spec. */
export interface Birth {
  idempotencyKey: string;
  /** The cloud's create counter and its tag (unique ids), and the time of the create. */
  serial: number;
  tag: number;
  now: number;
  group: string | undefined;
  zone: string | undefined;
  noHost: string | undefined;
}

/** A new VM, booting (BUILD) from now for `boot_time`. */
export function newSimVm(o: DummyOptions, spec: VmSpec, b: Birth): SimVm {
  const { now, zone, group, noHost } = b;
  const id = vmId(o.seed, b.tag, b.serial);
  const bootMs = pick(o.boot_time, unitHash(o.seed, 'boot', id)) * 1000;
  const { [META_IDEMPOTENCY]: _idem, [META_TIMED_SHUTDOWN]: askedShutdown, ...metadata } = spec.metadata;
  const shutdownAt =
    o.timed_shutdown !== undefined
      ? Math.floor((now + o.timed_shutdown * 1000) / 1000)
      : askedShutdown !== undefined && Number.isFinite(Number(askedShutdown))
        ? Number(askedShutdown)
        : undefined;
  return {
    id,
    name: spec.name,
    ...(spec.flavor ? { flavor: spec.flavor } : {}),
    ...(spec.image ? { image: spec.image } : {}),
    ...(spec.keyName ? { keyName: spec.keyName } : {}),
    ...(spec.userdata ? { userdata: spec.userdata } : {}),
    network:
      zone === spec.network.availabilityZone ? spec.network : { ...spec.network, availabilityZone: zone },
    metadata,
    idem: b.idempotencyKey,
    ...(group !== undefined ? { group } : {}),
    ...(shutdownAt !== undefined ? { shutdownAt } : {}),
    ips: o.addresses === 'loopback' ? LOOPBACK : Object.freeze([privateIp(b.serial)]),
    createdAt: new Date(now).toISOString(),
    readyAt: now + bootMs,
    bootFails: brokenImage(o, spec.image) || unitHash(o.seed, 'bootfail', id) < o.boot_failure_rate,
    diesAt: deathTime(o, id, now + bootMs),
    poweredOff: false,
    task: 'BUILD',
    disk: 1,
    ...(noHost !== undefined ? { noHost } : {}),
  };
}

const LOOPBACK: readonly string[] = Object.freeze(['127.0.0.1']);

/**
 * UUID-shaped: the cloud's tag, hash bits, and the serial (unique within the cloud). Joined rather than
 * written as a template: a template string of these parts stays a tree of pieces, several times the size
 * of the flat string, as long as the VM lives here and in the daemon's snapshots and events.
 */
function vmId(seed: number, tag: number, serial: number): string {
  const a = Math.floor(unitHash(seed, 'id', tag, serial) * 0x100000000)
    .toString(16)
    .padStart(8, '0');
  const t = tag.toString(16).padStart(8, '0');
  const s = serial.toString(16).padStart(12, '0');
  return [t, a.slice(0, 4), `4${a.slice(5, 8)}`, t.slice(0, 4), s].join('-');
}

function privateIp(serial: number): string {
  return `10.${(serial >> 16) & 255}.${(serial >> 8) & 255}.${serial & 255}`;
}
