/** A VM as the IaaS contract reports it, and the metadata keys vmshepherd writes on the VMs it creates. */

/** Cloud state of a VM, mapped by the driver (the original's OpenStack mapping lives in that driver). */
export type VmState =
  | 'pending'
  | 'running'
  | 'stopped'
  | 'error'
  /** Being deleted (Nova's task `deleting`): on its way out, neither counted nor deleted again. */
  | 'deleting'
  | 'terminated'
  | 'unknown';

/** Metadata keys vmshepherd writes on every VM it creates; membership is by these, never by name. */
export const META_PRESET = 'vmshepherd_preset';
export const META_SPEC = 'vmshepherd_spec';
export const META_IDEMPOTENCY = 'vmshepherd_idem';
export const META_REVISION = 'vmshepherd_revision';
/**
 * A fingerprint of each spec field the VM was brought to (see presets/spec-parts.ts): written only once the
 * cloud shows the change, so fields the cloud does not report (user data) are compared against it.
 */
export const META_PARTS = 'vmshepherd_parts';
/** The zone a create of a spread went to (a VM still scheduling may not report its zone yet). */
export const META_ZONE = 'vmshepherd_zone';
/** The original's VM lease: epoch seconds after which the VM is terminated. */
export const META_TIMED_SHUTDOWN = 'iaas_timed_shutdown';

/** The fields of a spec, each compared on its own and changed in place by its own operation. */
export type SpecField =
  | 'image'
  | 'flavor'
  | 'keyName'
  | 'userdata'
  | 'securityGroups'
  | 'networks'
  | 'availabilityZone'
  | 'volume'
  | 'configDrive';
export const SPEC_FIELDS: readonly SpecField[] = [
  'image',
  'flavor',
  'keyName',
  'userdata',
  'securityGroups',
  'networks',
  'availabilityZone',
  'volume',
  'configDrive',
];

/**
 * A VM as the cloud reports it. The spec fields (image ... availabilityZone) are what the cloud shows now,
 * left undefined when the cloud does not report that field (then the recorded fingerprint is compared).
 */
export interface Vm {
  id: string;
  name: string;
  state: VmState;
  /** The cloud's own status word (ACTIVE, BUILD, ...), for people. */
  providerStatus?: string;
  ips: string[];
  /** ISO 8601 UTC. */
  createdAt: string;
  metadata: Record<string, string>;
  /** Image name (or id when the name is unknown), and its id where the cloud tells it. */
  image?: string;
  imageId?: string;
  /** Flavor name (or id), and its id where the cloud tells it. */
  flavor?: string;
  flavorId?: string;
  /** The key pair; null: the cloud reports that the VM has none. */
  keyName?: string | null;
  /** Security group names, each once. */
  securityGroups?: string[];
  /** Networks as the preset names them (ids or names): only where the cloud can report them so. */
  networks?: string[];
  availabilityZone?: string;
  /**
   * The physical host the VM runs on, as the cloud names it to this account (Nova's `hostId`); absent
   * when the cloud does not tell it. Disruptions are limited per host by it (docs/locks.md).
   */
  host?: string;
  /** A resize waits for its confirmation (Nova's VERIFY_RESIZE): resumed by confirming it. */
  resizeUnconfirmed?: boolean;
  /** Why the cloud says the VM failed (kept for the panel). */
  fault?: string;
  /** Epoch ms from `iaas_timed_shutdown`, when set. */
  timedShutdownAt?: number;
  /** The cloud's own tags on the server (Nova server tags), when it has any. */
  tags?: string[];
}
