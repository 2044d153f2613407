import {
  META_IDEMPOTENCY,
  META_TIMED_SHUTDOWN,
  type NetworkSpec,
  type Vm,
  type VmState,
} from '../../types.js';

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

/** Status word of a VM at `now`, as a cloud would report it (computed from the clock: no timers run). */
export function simStatus(vm: SimVm, now: number): string {
  if (vm.goneAt !== undefined) return 'DELETING';
  if (now < vm.readyAt) return vm.task;
  if (vm.resizedFrom !== undefined) return 'VERIFY_RESIZE';
  if (vm.bootFails || vm.noHost !== undefined) return 'ERROR';
  if (vm.diesAt !== null && now >= vm.diesAt) return 'ERROR';
  return vm.poweredOff && (vm.offAt === undefined || now >= vm.offAt) ? 'SHUTOFF' : 'ACTIVE';
}

/** The VM as the IaaS contract reports it, with its status word `status`. */
export function simView(vm: SimVm, status: string): Vm {
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

/** The simulated host of a zone's VMs. */
export const hostOf = (zone: string | undefined) => `sim-host-${zone ?? 'default'}`;
