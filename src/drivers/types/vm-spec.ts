/** What a VM is built from (`VmSpec`) and where it is placed (server groups). */

/** Scheduler policies of a server group (Nova's names). */
export const SERVER_GROUP_POLICIES = [
  'anti-affinity',
  'soft-anti-affinity',
  'affinity',
  'soft-affinity',
] as const;
export type ServerGroupPolicy = (typeof SERVER_GROUP_POLICIES)[number];
/**
 * Where a preset's VMs are placed relative to each other: a group the driver creates and owns for the preset
 * (by `policy`), or an existing group (by `id`).
 */
export type ServerGroupSpec = { policy: ServerGroupPolicy } | { id: string };

/** A configured preset as `releaseGroups` sees it: its name and the server group it asks for. */
export interface PresetPlacement {
  preset: string;
  serverGroup?: ServerGroupSpec;
}

export interface NetworkSpec {
  securityGroups: string[];
  availabilityZone?: string;
  /** Network ids or names (the original's `subnets: [{net-id}]` and `subnet: [name]`). */
  subnets: string[];
  /** `network.networks`: interfaces after those of `subnets`, each a network (with a fixed IP) or a port. */
  nics?: NicSpec[];
}

/** One interface: a network by id or name, optionally with its fixed IP, or an existing port by id. */
export type NicSpec = { network: string; fixedIp?: string } | { port: string };

/** A root disk on a new volume made from the image (boot from volume). */
export interface VolumeSpec {
  /** GB. */
  size: number;
  /** Volume type; the cloud's default when absent. */
  type?: string;
  /** The volume is deleted with the VM. */
  deleteOnTermination: boolean;
}

/** What to build: everything the cloud needs, already rendered. */
export interface VmSpec {
  preset: string;
  name: string;
  image?: string;
  flavor?: string;
  keyName?: string;
  userdata?: string;
  network: NetworkSpec;
  volume?: VolumeSpec;
  /** Attach a config drive. */
  configDrive?: boolean;
  /** Includes the META_* keys and the preset's meta_tags. */
  metadata: Record<string, string>;
  specHash: string;
  /** The VM joins this server group (not part of the spec hash: no cloud moves a VM between groups). */
  serverGroup?: ServerGroupSpec;
}
