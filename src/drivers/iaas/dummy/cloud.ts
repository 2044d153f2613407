import { ShepherdError } from '../../../errors/shepherd-error.js';
import type { Clock } from '../../../util/clock.js';
import { unitHash } from '../../../util/seeded.js';
import { SharedValues } from '../../../util/shared-values.js';
import {
  META_IDEMPOTENCY,
  META_PRESET,
  META_TIMED_SHUTDOWN,
  type NetworkSpec,
  type Vm,
  type VmSpec,
  type VmState,
} from '../../types.js';
import { groupKey, groupZone } from './group-hosts.js';
import type { DummyOptions, Range } from './options.js';

/**
 * A VM as the simulated cloud stores it. Its status is computed from the clock, so no timers run.
 * Compact on purpose (benchmarks keep 100,000 of them): metadata shared by the VMs of one preset
 * revision is stored once, and only what differs per VM (idempotency key, shutdown time) is kept here.
 */
export interface SimVm {
  id: string;
  name: string;
  flavor?: string;
  image?: string;
  keyName?: string;
  userdata?: string;
  network: NetworkSpec;
  /** Shared by VMs with the same metadata; without the per-VM keys below. */
  metadata: Readonly<Record<string, string>>;
  idem: string;
  /** iaas_timed_shutdown, epoch seconds. */
  shutdownAt?: number;
  ips: readonly string[];
  /** ISO 8601 UTC. */
  createdAt: string;
  /** When the current build, reboot, rebuild or resize ends. */
  readyAt: number;
  bootFails: boolean;
  /** Created beyond capacity with `no_valid_host: boot`: goes to ERROR with this reason, holds no host. */
  noHost?: string;
  diesAt: number | null;
  poweredOff: boolean;
  /** A stop in progress (`stop_time`): ACTIVE until then, SHUTOFF after. */
  offAt?: number;
  /** Operation in progress until readyAt: BUILD, REBOOT, REBUILD, RESIZE. */
  task: 'BUILD' | 'REBOOT' | 'REBUILD' | 'RESIZE';
  /** Generation of the root disk: 1 when built, one more with each rebuild (which wipes it). */
  disk?: number;
  /** The flavor before a resize that waits for its confirmation (VERIFY_RESIZE once its task ended). */
  resizedFrom?: string;
  /** Deleted: listed as DELETING until then (`delete_time`), then gone. */
  goneAt?: number;
  /** The server group it joined (groupKey): its zone is its host for the group's policy. */
  group?: string;
}

export interface SimSnapshot {
  version: 2;
  serial: number;
  vms: SimVm[];
}

// A task on an existing VM is `unknown`, not `pending`: the loop times `pending` from the VM's creation
// (boot_timeout), so a reboot of an old VM would look like a stuck boot. OpenStackDriver does the same.
const STATE_OF: Record<string, VmState> = {
  ACTIVE: 'running',
  BUILD: 'pending',
  REBOOT: 'unknown',
  REBUILD: 'unknown',
  RESIZE: 'unknown',
  VERIFY_RESIZE: 'unknown',
  DELETING: 'deleting',
  ERROR: 'error',
  SHUTOFF: 'stopped',
};

/**
 * The simulated cloud: an account with VMs that boot, fail and die on a deterministic schedule, API calls
 * with latency and injected faults, quota and per-flavor capacity. One instance serves every preset of
 * one account. A product feature for demos, tests and benchmarks, not a mock.
 */
export class SimulatedCloud {
  private readonly vms = new Map<string, SimVm>();
  /**
   * VMs by preset: by their `vmshepherd_preset`, or by their name when they have none (a VM of the
   * original VmShepherd, named after its preset, is listed with that preset for adoption).
   */
  private readonly byPreset = new Map<string, Set<string>>();
  private readonly calls = new Map<string, number>();
  /** VMs being deleted (`delete_time`), removed once their time came. */
  private readonly deleting = new Set<string>();
  /** One frozen metadata object for VMs with equal metadata (most of a preset's VMs). */
  private readonly metadata = new SharedValues();
  private serial = 0;
  /** Zone capacities changed at run time (setZoneCapacity), over `zone_capacity`. */
  private readonly zoneCapacity = new Map<string, number | null>();
  /** Distinguishes the ids of two simulated clouds with different options but the same seed. */
  private readonly tag: number;
  /** Called after every change (the state file hooks in here). */
  onChange: (() => void) | undefined;

  constructor(
    private readonly o: DummyOptions,
    private readonly clock: Clock,
  ) {
    this.tag = Math.floor(unitHash(o.seed, JSON.stringify(o)) * 0x100000000);
  }

  // ----- the API, with latency and faults ------------------------------------------------------------

  list(preset: string, signal?: AbortSignal): Promise<Vm[]> {
    return this.call('list', signal, () =>
      [...(this.byPreset.get(preset) ?? [])].map((id) => this.view(this.vms.get(id)!)),
    );
  }

  listAll(signal?: AbortSignal): Promise<Vm[]> {
    return this.call('list', signal, () => [...this.vms.values()].map((v) => this.view(v)));
  }

  /**
   * listAll grouped by preset (the simulator streams it so, one line per preset). Which VMs each preset
   * has is fixed when the listing is taken; each preset's views are made when it takes them, so the
   * daemon in this process never holds 100,000 views at once for a whole cycle (they were the largest
   * part of what a cycle left in the old generation: docs/performance.md).
   */
  listAllByPreset(signal?: AbortSignal): Promise<Map<string, () => Vm[]>> {
    return this.call('list', signal, () => {
      const groups = new Map<string, () => Vm[]>();
      for (const [preset, ids] of this.byPreset) {
        if (ids.size === 0) continue;
        const members = Array.from(ids, (id) => this.vms.get(id) as SimVm);
        groups.set(preset, () => members.map((vm) => this.view(vm)));
      }
      return groups;
    });
  }

  get(id: string, signal?: AbortSignal): Promise<Vm | null> {
    return this.call('get', signal, () => {
      const vm = this.vms.get(id);
      return vm ? this.view(vm) : null;
    });
  }

  create(spec: VmSpec, idempotencyKey: string, signal?: AbortSignal): Promise<Vm> {
    return this.call('create', signal, () => this.build(spec, idempotencyKey));
  }

  /** Idempotent; with `delete_time` the VM stays listed as DELETING for a while, as a real delete does. */
  terminate(id: string, signal?: AbortSignal): Promise<void> {
    return this.call('terminate', signal, () => {
      const vm = this.vms.get(id);
      if (!vm || vm.goneAt !== undefined) return;
      const ms = pick(this.o.delete_time, unitHash(this.o.seed, 'delete', id)) * 1000;
      if (ms <= 0) this.remove(id);
      else {
        vm.goneAt = this.clock.now() + ms;
        this.deleting.add(id);
        this.onChange?.();
      }
    });
  }

  stop(id: string, signal?: AbortSignal): Promise<void> {
    return this.call('stop', signal, () =>
      this.mutate(id, ['ACTIVE'], (vm) => {
        vm.poweredOff = true;
        const ms = pick(this.o.stop_time, unitHash(this.o.seed, 'stop', vm.id, this.clock.now())) * 1000;
        if (ms > 0) vm.offAt = this.clock.now() + ms;
        else delete vm.offAt;
      }),
    );
  }

  start(id: string, signal?: AbortSignal): Promise<void> {
    return this.call('start', signal, () =>
      this.mutate(id, ['SHUTOFF'], (vm) => {
        vm.poweredOff = false;
        this.restartTask(vm, 'REBOOT');
      }),
    );
  }

  reboot(id: string, signal?: AbortSignal): Promise<void> {
    return this.call('reboot', signal, () =>
      this.mutate(id, ['ACTIVE', 'ERROR', 'SHUTOFF'], (vm) => this.restartTask(vm, 'REBOOT')),
    );
  }

  /**
   * Re-images the VM from the spec's image, key and userdata (without a spec: the same image again): a new
   * disk generation. Networks, groups, flavor and metadata stay as they are, as on OpenStack.
   */
  rebuild(id: string, spec: VmSpec | undefined, signal?: AbortSignal): Promise<void> {
    return this.call('rebuild', signal, () =>
      this.mutate(id, ['ACTIVE', 'ERROR', 'SHUTOFF'], (vm) => {
        if (spec) {
          if (spec.image) vm.image = spec.image;
          setOrDrop(vm, 'keyName', spec.keyName);
          setOrDrop(vm, 'userdata', spec.userdata);
        }
        vm.disk = (vm.disk ?? 1) + 1;
        this.restartTask(vm, 'REBUILD');
      }),
    );
  }

  /** Changes only the flavor; the VM then waits in VERIFY_RESIZE until the resize is confirmed. */
  resize(id: string, spec: VmSpec, signal?: AbortSignal): Promise<void> {
    return this.call('resize', signal, () =>
      this.mutate(id, ['ACTIVE', 'SHUTOFF'], (vm) => {
        const flavor = spec.flavor ?? vm.flavor;
        if (!flavor || flavor === vm.flavor)
          throw new ShepherdError('dummy_op_0002', `${id} has flavor ${flavor ?? 'none'} already`, {
            details: { vmId: id, status: this.status(vm) },
          });
        this.checkFlavor(flavor, 1);
        vm.resizedFrom = vm.flavor ?? '';
        vm.flavor = flavor;
        this.restartTask(vm, 'RESIZE');
      }),
    );
  }

  confirmResize(id: string, signal?: AbortSignal): Promise<void> {
    return this.call('confirmResize', signal, () =>
      this.mutate(id, ['VERIFY_RESIZE'], (vm) => {
        delete vm.resizedFrom;
      }),
    );
  }

  /** The spec's security groups, exactly; at once, like adding and removing groups on OpenStack. */
  setSecurityGroups(id: string, spec: VmSpec, signal?: AbortSignal): Promise<void> {
    return this.call('setSecurityGroups', signal, () =>
      this.mutate(id, ['ACTIVE', 'SHUTOFF'], (vm) => {
        vm.network = { ...vm.network, securityGroups: [...spec.network.securityGroups] };
      }),
    );
  }

  /** The spec's networks, exactly (interfaces attached and detached). */
  setNetworks(id: string, spec: VmSpec, signal?: AbortSignal): Promise<void> {
    return this.call('setNetworks', signal, () =>
      this.mutate(id, ['ACTIVE', 'SHUTOFF'], (vm) => {
        vm.network = { ...vm.network, subnets: [...spec.network.subnets] };
      }),
    );
  }

  /** Merges the spec's metadata; refused while a task runs or a resize waits, as Nova refuses it (409). */
  setMetadata(id: string, spec: VmSpec, signal?: AbortSignal): Promise<void> {
    return this.call('setMetadata', signal, () =>
      this.mutate(id, ['ACTIVE', 'SHUTOFF', 'ERROR'], (vm) => {
        const { [META_IDEMPOTENCY]: _idem, [META_TIMED_SHUTDOWN]: _shutdown, ...metadata } = spec.metadata;
        this.group(vm, 'delete'); // its preset may change (an adopted VM gets one)
        vm.metadata = this.share({ ...vm.metadata, ...metadata });
        this.group(vm, 'add');
      }),
    );
  }

  // ----- state ---------------------------------------------------------------------------------------

  snapshot(): SimSnapshot {
    return { version: 2, serial: this.serial, vms: [...this.vms.values()] };
  }

  restore(snapshot: SimSnapshot): void {
    this.vms.clear();
    this.byPreset.clear();
    this.deleting.clear();
    this.serial = snapshot.serial;
    for (const vm of snapshot.vms) this.insert(vm);
  }

  /** Calls of one verb so far, answered or not (tests count what the cloud was asked). */
  callCount(verb: string): number {
    return this.calls.get(verb) ?? 0;
  }

  /** Calls of every verb so far, answered or not (the simulator's /v1/stats). */
  callCounts(): Record<string, number> {
    return Object.fromEntries(this.calls);
  }

  /** Number of VMs in the account (for tests and benchmarks; free of latency and faults). */
  size(): number {
    return this.vms.size;
  }

  /** Number of VMs of one preset now, in any state (for the simulator's surge watch; no latency). */
  presetSize(preset: string): number {
    return this.byPreset.get(preset)?.size ?? 0;
  }

  /** The preset a VM belongs to (for the simulator's counters; no latency), or undefined when unknown. */
  presetOf(id: string): string | undefined {
    const vm = this.vms.get(id);
    return vm && (vm.metadata[META_PRESET] ?? vm.name);
  }

  /** Every VM now, without latency or faults: what an observer of the whole cloud sees (tests, benchmarks). */
  peek(): Vm[] {
    return [...this.vms.values()].map((vm) => this.view(vm));
  }

  /** Status word of a VM now, as a cloud would report it. */
  status(vm: SimVm, now = this.clock.now()): string {
    if (vm.goneAt !== undefined) return 'DELETING';
    if (now < vm.readyAt) return vm.task;
    if (vm.resizedFrom !== undefined) return 'VERIFY_RESIZE';
    if (vm.bootFails || vm.noHost !== undefined) return 'ERROR';
    if (vm.diesAt !== null && now >= vm.diesAt) return 'ERROR';
    return vm.poweredOff && (vm.offAt === undefined || now >= vm.offAt) ? 'SHUTOFF' : 'ACTIVE';
  }

  // ----- internals -----------------------------------------------------------------------------------

  /** Removes the VMs whose deletion ended (before every call's effect: the cloud as it is by then). */
  private sweep(): void {
    if (this.deleting.size === 0) return;
    const now = this.clock.now();
    for (const id of this.deleting) {
      const vm = this.vms.get(id);
      if (!vm || (vm.goneAt ?? 0) <= now) {
        this.deleting.delete(id);
        this.remove(id);
      }
    }
  }

  private async call<T>(verb: string, signal: AbortSignal | undefined, effect: () => T): Promise<T> {
    const n = (this.calls.get(verb) ?? 0) + 1;
    this.calls.set(verb, n);
    let latency = pick(this.o.latency, unitHash(this.o.seed, 'latency', verb, n));
    const slow = this.o.slow_calls;
    if (slow && unitHash(this.o.seed, 'slow', verb, n) < slow.rate) latency = slow.latency;
    const timedOut = latency > this.o.call_timeout;
    if (latency > 0) await this.clock.sleep(Math.min(latency, this.o.call_timeout) * 1000, signal);
    if (this.o.error_rate > 0 && unitHash(this.o.seed, 'error', verb, n) < this.o.error_rate) {
      throw new ShepherdError('dummy_call_2001', `${verb} (call ${n})`, { details: { verb } });
    }
    this.sweep();
    const result = effect();
    if (timedOut) {
      // Like a real API behind a slow network: the effect happened, the caller only sees a timeout.
      throw new ShepherdError('dummy_call_2002', `${verb} after ${this.o.call_timeout}s`, {
        details: { verb },
      });
    }
    return result;
  }

  private build(spec: VmSpec, idempotencyKey: string): Vm {
    for (const id of this.byPreset.get(spec.preset) ?? []) {
      const existing = this.vms.get(id)!;
      if (existing.idem === idempotencyKey) return this.view(existing);
    }
    if (this.o.images && spec.image && !this.o.images.includes(spec.image)) {
      throw new ShepherdError('dummy_create_0003', `image '${spec.image}'`, {
        details: { image: spec.image },
      });
    }
    if (this.o.flavors && spec.flavor && !this.o.flavors.includes(spec.flavor)) {
      throw new ShepherdError('dummy_create_0003', `flavor '${spec.flavor}'`, {
        details: { flavor: spec.flavor },
      });
    }
    if (this.o.quota && this.vms.size >= this.o.quota.instances) {
      throw new ShepherdError(
        'dummy_create_0001',
        `${this.vms.size} of ${this.o.quota.instances} instances used`,
        {
          details: { used: this.vms.size, limit: this.o.quota.instances },
        },
      );
    }
    const group = groupKey(spec.preset, spec.serverGroup);
    let zone = spec.network.availabilityZone ?? this.o.zones?.[0];
    let noHost: string | undefined;
    try {
      zone =
        groupZone(spec.serverGroup, this.o.zones, this.memberZones(group), spec.network.availabilityZone) ??
        zone;
      if (spec.flavor) this.checkFlavor(spec.flavor, 0);
      if (zone !== undefined) this.checkZone(zone);
    } catch (err) {
      // Nova takes the create and fails the server when the scheduler finds no host.
      const capacity = err instanceof ShepherdError && err.code === 'dummy_create_0002';
      if (!capacity || this.o.no_valid_host !== 'boot') throw err;
      noHost = err.message;
    }
    this.serial += 1;
    const id = vmId(this.o.seed, this.tag, this.serial);
    const now = this.clock.now();
    const bootMs = pick(this.o.boot_time, unitHash(this.o.seed, 'boot', id)) * 1000;
    const { [META_IDEMPOTENCY]: _idem, [META_TIMED_SHUTDOWN]: askedShutdown, ...metadata } = spec.metadata;
    const shutdownAt =
      this.o.timed_shutdown !== undefined
        ? Math.floor((now + this.o.timed_shutdown * 1000) / 1000)
        : askedShutdown !== undefined && Number.isFinite(Number(askedShutdown))
          ? Number(askedShutdown)
          : undefined;
    const vm: SimVm = {
      id,
      name: spec.name,
      ...(spec.flavor ? { flavor: spec.flavor } : {}),
      ...(spec.image ? { image: spec.image } : {}),
      ...(spec.keyName ? { keyName: spec.keyName } : {}),
      ...(spec.userdata ? { userdata: spec.userdata } : {}),
      network:
        zone === spec.network.availabilityZone ? spec.network : { ...spec.network, availabilityZone: zone },
      metadata,
      idem: idempotencyKey,
      ...(group !== undefined ? { group } : {}),
      ...(shutdownAt !== undefined ? { shutdownAt } : {}),
      ips: this.o.addresses === 'loopback' ? LOOPBACK : Object.freeze([privateIp(this.serial)]),
      createdAt: new Date(now).toISOString(),
      readyAt: now + bootMs,
      bootFails:
        this.brokenImage(spec.image) || unitHash(this.o.seed, 'bootfail', id) < this.o.boot_failure_rate,
      diesAt: this.deathTime(id, now + bootMs),
      poweredOff: false,
      task: 'BUILD',
      disk: 1,
      ...(noHost !== undefined ? { noHost } : {}),
    };
    this.insert(vm);
    this.onChange?.();
    return this.view(vm);
  }

  private checkFlavor(flavor: string, extra: number): void {
    const limit = this.o.capacity?.[flavor];
    if (limit === undefined) return;
    let used = extra;
    for (const vm of this.vms.values()) if (vm.flavor === flavor && vm.noHost === undefined) used++;
    if (used >= limit) {
      throw new ShepherdError('dummy_create_0002', `flavor '${flavor}': ${used} of ${limit} hosts used`, {
        details: { flavor, used, limit },
      });
    }
  }

  /** The zones (hosts) of the group's VMs that hold a host: not failed for capacity, not deleted. */
  private memberZones(group: string | undefined): string[] {
    if (group === undefined) return [];
    const out: string[] = [];
    for (const vm of this.vms.values())
      if (
        vm.group === group &&
        vm.noHost === undefined &&
        vm.goneAt === undefined &&
        vm.network.availabilityZone
      )
        out.push(vm.network.availabilityZone);
    return out;
  }

  /** A zone the account does not have fails as Nova does; a full zone has no valid host. */
  private checkZone(zone: string): void {
    if (this.o.zones && !this.o.zones.includes(zone)) {
      throw new ShepherdError('dummy_create_0003', `availability zone '${zone}'`, { details: { zone } });
    }
    const limit = this.zoneCapacity.has(zone) ? this.zoneCapacity.get(zone) : this.o.zone_capacity?.[zone];
    if (limit === undefined || limit === null) return;
    let used = 0;
    for (const vm of this.vms.values())
      if (vm.network.availabilityZone === zone && vm.noHost === undefined) used++;
    if (used >= limit) {
      throw new ShepherdError('dummy_create_0002', `zone '${zone}': ${used} of ${limit} hosts used`, {
        details: { zone, used, limit },
      });
    }
  }

  /**
   * Changes a zone's capacity while the cloud runs (null: unlimited), as when hosts are added to a zone or
   * it runs out: for demos and tests of zone spread. Overrides `zone_capacity`.
   */
  setZoneCapacity(zone: string, limit: number | null): void {
    this.zoneCapacity.set(zone, limit);
  }

  /** Exponentially distributed lifetime from the VM's id: the same seed kills the same VMs at the same age. */
  private deathTime(id: string, from: number): number | null {
    if (this.o.death_rate <= 0) return null;
    const u = unitHash(this.o.seed, 'death', id);
    return from + (-Math.log(1 - u) / this.o.death_rate) * 3_600_000;
  }

  private restartTask(vm: SimVm, task: SimVm['task']): void {
    const now = this.clock.now();
    vm.task = task;
    vm.readyAt = now + pick(this.o.boot_time, unitHash(this.o.seed, 'boot', vm.id, now)) * 1000;
    vm.diesAt = this.deathTime(`${vm.id}:${now}`, vm.readyAt);
    vm.bootFails = this.brokenImage(vm.image);
  }

  private brokenImage(image: string | undefined): boolean {
    return image !== undefined && (this.o.broken_images?.includes(image) ?? false);
  }

  private mutate(id: string, allowed: string[], change: (vm: SimVm) => void): void {
    const vm = this.vms.get(id);
    if (!vm) throw new ShepherdError('dummy_op_0001', id, { details: { vmId: id } });
    const status = this.status(vm);
    if (!allowed.includes(status)) {
      throw new ShepherdError('dummy_op_0002', `${id} is ${status}; allowed from ${allowed.join(', ')}`, {
        details: { vmId: id, status },
      });
    }
    change(vm);
    this.onChange?.();
  }

  private insert(vm: SimVm): void {
    vm.metadata = this.share(vm.metadata);
    this.vms.set(vm.id, vm);
    if (vm.goneAt !== undefined) this.deleting.add(vm.id);
    this.group(vm, 'add');
  }

  private remove(id: string): void {
    const vm = this.vms.get(id);
    if (!vm) return; // idempotent: gone is success
    this.vms.delete(id);
    this.group(vm, 'delete');
    this.onChange?.();
  }

  /** Adds the VM to, or takes it from, its preset's group (see byPreset). */
  private group(vm: SimVm, change: 'add' | 'delete'): void {
    const key = vm.metadata[META_PRESET] ?? vm.name;
    let ids = this.byPreset.get(key);
    if (change === 'delete') {
      ids?.delete(vm.id);
      if (ids?.size === 0) this.byPreset.delete(key);
      return;
    }
    if (!ids) {
      ids = new Set();
      this.byPreset.set(key, ids);
    }
    ids.add(vm.id);
  }

  /** Callers hand over their own (fresh) object: it may become the shared one, and is frozen. */
  private share(metadata: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
    return Object.freeze(this.metadata.share(metadata));
  }

  private view(vm: SimVm): Vm {
    const status = this.status(vm);
    const fault =
      status === 'ERROR'
        ? vm.noHost !== undefined
          ? `No valid host was found: ${vm.noHost} [dummy_create_0002]`
          : vm.bootFails
            ? 'simulated: the VM failed to boot [dummy_boot_2001]'
            : 'simulated: the VM died [dummy_run_2001]'
        : undefined;
    return {
      id: vm.id,
      name: vm.name,
      state: STATE_OF[status] ?? 'unknown',
      providerStatus: status,
      ips: vm.ips as string[],
      createdAt: vm.createdAt,
      metadata: {
        ...vm.metadata,
        [META_IDEMPOTENCY]: vm.idem,
        ...(vm.shutdownAt !== undefined ? { [META_TIMED_SHUTDOWN]: String(vm.shutdownAt) } : {}),
      },
      ...(vm.image ? { image: vm.image } : {}),
      ...(vm.flavor ? { flavor: vm.flavor } : {}),
      keyName: vm.keyName ?? null,
      securityGroups: vm.network.securityGroups,
      networks: vm.network.subnets,
      ...(vm.network.availabilityZone ? { availabilityZone: vm.network.availabilityZone } : {}),
      // One host per zone: enough for infrastructure locks to be used and tested without a cloud.
      ...(vm.noHost === undefined ? { host: hostOf(vm.network.availabilityZone) } : {}),
      ...(status === 'VERIFY_RESIZE' ? { resizeUnconfirmed: true } : {}),
      ...(fault ? { fault } : {}),
      ...(vm.shutdownAt !== undefined ? { timedShutdownAt: vm.shutdownAt * 1000 } : {}),
    };
  }

  /** The account for infrastructure locks: one per simulated cloud (seed and options). */
  get account(): string {
    return `sim-${this.tag.toString(16)}`;
  }

  /** The root disk's generation of a VM (tests read it to tell a rebuild happened); undefined when gone. */
  diskOf(id: string): number | undefined {
    const vm = this.vms.get(id);
    return vm ? (vm.disk ?? 1) : undefined;
  }
}

function setOrDrop<K extends 'keyName' | 'userdata'>(vm: SimVm, key: K, value: string | undefined): void {
  if (value === undefined) delete vm[key];
  else vm[key] = value;
}

/** The simulated host of a zone's VMs. */
export const hostOf = (zone: string | undefined) => `sim-host-${zone ?? 'default'}`;

const LOOPBACK: readonly string[] = Object.freeze(['127.0.0.1']);

function pick(r: Range, u: number): number {
  return typeof r === 'number' ? r : r.min + (r.max - r.min) * u;
}

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
