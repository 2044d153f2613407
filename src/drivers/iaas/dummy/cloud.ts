import { ShepherdError } from '../../../errors/shepherd-error.js';
import type { Clock } from '../../../util/clock.js';
import { unitHash } from '../../../util/seeded.js';
import { SharedValues } from '../../../util/shared-values.js';
import { META_IDEMPOTENCY, META_PRESET, META_TIMED_SHUTDOWN, type Vm, type VmSpec } from '../../types.js';
import { callFault } from './call-faults.js';
import { checkCatalog, checkFlavor, placeVm } from './capacity.js';
import { groupKey } from './group-hosts.js';
import { newSimVm, pick, restartTask } from './lifecycle.js';
import type { DummyOptions } from './options.js';
import { type SimSnapshot, type SimVm, simStatus, simView } from './sim-vm.js';

// What the callers took from this file before it was split.
export { hostOf, type SimSnapshot, type SimVm } from './sim-vm.js';

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
        checkFlavor(this.vms, this.o, flavor, 1);
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
    return simStatus(vm, now);
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
    const { latency, timedOut, fails } = callFault(this.o, verb, n);
    if (latency > 0) await this.clock.sleep(Math.min(latency, this.o.call_timeout) * 1000, signal);
    if (fails) throw new ShepherdError('dummy_call_2001', `${verb} (call ${n})`, { details: { verb } });
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
    checkCatalog(this.o, spec, this.vms.size);
    const group = groupKey(spec.preset, spec.serverGroup);
    const { zone, noHost } = placeVm(this.vms, this.o, spec, group, (z) =>
      this.zoneCapacity.has(z) ? this.zoneCapacity.get(z) : this.o.zone_capacity?.[z],
    );
    this.serial += 1;
    const vm = newSimVm(this.o, spec, {
      idempotencyKey,
      serial: this.serial,
      tag: this.tag,
      now: this.clock.now(),
      group,
      zone,
      noHost,
    });
    this.insert(vm);
    this.onChange?.();
    return this.view(vm);
  }

  /**
   * Changes a zone's capacity while the cloud runs (null: unlimited), as when hosts are added to a zone or
   * it runs out: for demos and tests of zone spread. Overrides `zone_capacity`.
   */
  setZoneCapacity(zone: string, limit: number | null): void {
    this.zoneCapacity.set(zone, limit);
  }

  private restartTask(vm: SimVm, task: SimVm['task']): void {
    restartTask(this.o, vm, task, this.clock.now());
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
    return simView(vm, this.status(vm));
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
