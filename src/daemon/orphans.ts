import type { Logger } from 'pino';
import { META_PRESET, META_REVISION, type Vm } from '../drivers/types.js';
import { asShepherdError, type ShepherdError } from '../errors/shepherd-error.js';
import type { Preset } from '../presets/preset.js';
import type { RefreshReport } from '../presets/preset-catalog.js';
import type { CloudAccount } from './cloud-account.js';

/** A VM that belongs to a preset no longer configured: left alone until an operator decides. */
export interface OrphanVm {
  id: string;
  name: string;
  state: Vm['state'];
  ips: string[];
  createdAt: string;
  /** The preset named by the VM's `vmshepherd_preset`. */
  preset: string;
  /** The revision it was created from (for git presets, the commit). */
  revision?: string;
  /** IaaS driver of the cloud account it was seen in. */
  driver: string;
  /** When this instance saw the preset go, and the file and revision it last had. */
  removed?: { at: string; file: string; revision: string };
}

export interface OrphanReport {
  vms: OrphanVm[];
  /** Accounts that could not be listed (their orphans are unknown, not absent). */
  errors: ShepherdError[];
}

/** VMs whose preset is not configured (pure). */
export function orphansAmong(vms: Vm[], configured: ReadonlySet<string>): Vm[] {
  return vms.filter((vm) => {
    const preset = vm.metadata[META_PRESET];
    return preset !== undefined && !configured.has(preset);
  });
}

interface Removed {
  preset: Preset;
  at: number;
}

/**
 * Remembers presets that disappeared from the store (a file removed, a valid commit without it) and finds
 * their VMs. Nothing here terminates anything: removing a preset file never deletes a VM.
 */
export class OrphanTracker {
  private readonly removed = new Map<string, Removed>();

  /** After a catalog refresh: `before` is the presets in force before it. */
  note(before: Preset[], report: RefreshReport, now: number, logger: Logger): void {
    for (const name of report.added) this.removed.delete(name);
    const gone = before.filter((p) => report.removed.includes(p.name) && !this.removed.has(p.name));
    for (const preset of gone) this.removed.set(preset.name, { preset, at: now });
    if (gone.length > 0) {
      logger.warn(
        { code: 'preset_orphan_0001', presets: gone.map((p) => p.name) },
        'presets no longer configured: their VMs are left alone (orphans) until an operator decides',
      );
    }
  }

  /**
   * Orphan VMs seen through the cloud accounts: one full listing per account that can list everything
   * (the accounts of the configured presets and of the removed ones), else a listing per removed preset.
   */
  async list(
    configured: Preset[],
    account: (preset: Preset) => Promise<CloudAccount>,
  ): Promise<OrphanReport> {
    const names = new Set(configured.map((p) => p.name));
    const accounts = new Map<string, { account: CloudAccount; removed: Removed[] }>();
    const errors: ShepherdError[] = [];
    const add = async (preset: Preset, removed?: Removed) => {
      try {
        const a = await account(preset);
        const entry = accounts.get(a.key) ?? { account: a, removed: [] };
        if (removed) entry.removed.push(removed);
        accounts.set(a.key, entry);
      } catch (err) {
        errors.push(asShepherdError(err, 'daemon_run_1001'));
      }
    };
    for (const p of configured) await add(p);
    for (const r of this.removed.values()) if (!names.has(r.preset.name)) await add(r.preset, r);

    const vms: OrphanVm[] = [];
    await Promise.all(
      [...accounts.values()].map(async ({ account: a, removed }) => {
        try {
          const listed = a.hasListAll
            ? await a.listAll()
            : (await Promise.all(removed.map((r) => a.list(r.preset.name)))).flat();
          for (const vm of orphansAmong(listed, names)) vms.push(this.describe(vm, a.driverName));
        } catch (err) {
          errors.push(asShepherdError(err, 'iaas_call_1001'));
        }
      }),
    );
    vms.sort((x, y) => x.preset.localeCompare(y.preset) || x.createdAt.localeCompare(y.createdAt));
    return { vms, errors };
  }

  private describe(vm: Vm, driver: string): OrphanVm {
    const preset = vm.metadata[META_PRESET] ?? '';
    const revision = vm.metadata[META_REVISION];
    const removed = this.removed.get(preset);
    return {
      id: vm.id,
      name: vm.name,
      state: vm.state,
      ips: vm.ips,
      createdAt: vm.createdAt,
      preset,
      ...(revision ? { revision } : {}),
      driver,
      ...(removed
        ? {
            removed: {
              at: new Date(removed.at).toISOString(),
              file: removed.preset.source.file,
              revision: removed.preset.source.revision,
            },
          }
        : {}),
    };
  }
}
