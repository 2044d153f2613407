/**
 * The IaaS contract: list, create, terminate and get VMs, and the optional verbs that change one in place.
 */
import type { CallOptions } from './call-options.js';
import type { SpecField, Vm } from './vm.js';
import type { PresetPlacement, VmSpec } from './vm-spec.js';

export interface CreateOptions extends CallOptions {
  /** Also in the VM metadata: a driver retrying an ambiguous create looks it up before creating again. */
  idempotencyKey: string;
}

/**
 * Optional verbs a driver may offer; calling an absent one fails with a not-implemented error. The ones
 * that change a spec field resolve only once the cloud shows the change done and the VM settled (no task
 * in progress), and never touch the VM's metadata: the loop records the spec with `setMetadata` after.
 */
export interface IaasCapabilities {
  stop?(vmId: string, options?: CallOptions): Promise<void>;
  start?(vmId: string, options?: CallOptions): Promise<void>;
  reboot?(vmId: string, options?: CallOptions): Promise<void>;
  /** Re-images the VM from the spec's image, with its key pair and user data (destroys the root disk). */
  rebuild?(vmId: string, spec: VmSpec, options?: CallOptions): Promise<void>;
  /** Changes the flavor to the spec's, confirming the resize (also one found waiting for confirmation). */
  resize?(vmId: string, spec: VmSpec, options?: CallOptions): Promise<void>;
  /** Adds and removes security groups until the VM has exactly the spec's. */
  setSecurityGroups?(vmId: string, spec: VmSpec, options?: CallOptions): Promise<void>;
  /** Attaches and detaches interfaces until the VM is on exactly the spec's networks. */
  setNetworks?(vmId: string, spec: VmSpec, options?: CallOptions): Promise<void>;
  /** Merges the spec's metadata into the VM's; nothing else changes. */
  setMetadata?(vmId: string, spec: VmSpec, options?: CallOptions): Promise<void>;
}
export type IaasCapability = keyof IaasCapabilities;
export const IAAS_CAPABILITIES: readonly IaasCapability[] = [
  'stop',
  'start',
  'reboot',
  'rebuild',
  'resize',
  'setSecurityGroups',
  'setNetworks',
  'setMetadata',
];
/** Verbs that take the spec they bring the VM to. */
export const SPEC_VERBS: ReadonlySet<IaasCapability> = new Set([
  'rebuild',
  'resize',
  'setSecurityGroups',
  'setNetworks',
  'setMetadata',
]);

export interface IaasDriver {
  /** VMs that belong to the preset (by metadata). */
  list(preset: string, options?: CallOptions): Promise<Vm[]>;
  /** Every VM of this account that belongs to any preset: one call may serve all presets of a cycle. */
  listAll?(options?: CallOptions): Promise<Vm[]>;
  /**
   * The same listing grouped by preset, each preset's VMs decoded only when its function is called
   * (once). Preferred by the loop where offered: a whole account held as objects for a cycle is most
   * of the daemon's memory at 100,000 VMs, while one preset's VMs live only as long as its manage.
   */
  listAllByPreset?(options?: CallOptions): Promise<Map<string, () => Vm[]>>;
  create(spec: VmSpec, options: CreateOptions): Promise<Vm>;
  /** Idempotent: a VM that is already gone is a success. */
  terminate(vmId: string, options?: CallOptions): Promise<void>;
  get(vmId: string, options?: CallOptions): Promise<Vm | null>;
  /**
   * The presets configured on this account now: server groups the driver created for a preset that is gone,
   * or that now asks for another policy, are deleted once they have no members. Called after every refresh
   * of the presets; a driver makes no call when nothing changed since the last one.
   */
  releaseGroups?(presets: readonly PresetPlacement[], options?: CallOptions): Promise<void>;
  capabilities?: IaasCapabilities;
  /**
   * The spec fields this driver changes in place (each by the verb reconcile/in-place.ts names for it);
   * default: every field whose verb it offers. A field left out is brought to the spec by replacing the VM.
   */
  inPlaceFields?: readonly SpecField[];
  /**
   * Names the cloud account for infrastructure locks (`account:<it>`), equal for every driver instance
   * that talks to the same account (OpenStack: auth URL and project). Never a secret: it is stored in the
   * runtime store and shown in plan reasons. Without it, the account level of `limits:` is skipped.
   */
  lockAccount?: string;
  close?(): Promise<void>;
}
