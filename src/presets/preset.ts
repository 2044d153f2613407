import type { CountOrPercent } from '../config/preset-schema.js';
import type { NetworkSpec, ServerGroupSpec, VolumeSpec } from '../drivers/types.js';
import type { DemandSpec } from './demand-spec.js';
import type { HooksPolicy } from './hooks-policy.js';
import type { SpecParts } from './spec-parts.js';

/** Which driver a preset uses and with which (already validated) options. */
export interface DriverUse {
  driver: string;
  options: Record<string, unknown>;
}

export interface HealthPolicy {
  unhealthyThreshold: number;
  /** Seconds a VM must keep failing before replacement; -1 never replaces (the original's default). */
  failedDelay: number;
  startupGrace: number;
  maxUnhealthy: CountOrPercent;
  timeoutMs: number;
  /** The remediation ladder: reboot, rebuild, replace (the last step repeats). */
  remedies: readonly RemedyStep[];
  /** Unhealthy VMs that are replaced are stopped and kept (up to `keep`) for `ttlMs` instead of deleted. */
  quarantine?: QuarantinePolicy;
}

export interface QuarantinePolicy {
  keep: number;
  ttlMs: number;
}

export type RemedyStep = 'reboot' | 'rebuild' | 'replace';

export interface UpdatePolicy {
  strategy: 'replace' | 'in_place' | 'on_delete';
  maxSurge: CountOrPercent;
  maxUnavailable: CountOrPercent;
  minReadyMs: number;
}

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  quotaWindowMs: number;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type ScaleInOrder = 'unhealthy_newest' | 'unhealthy_oldest' | 'newest' | 'oldest';

/** A preset ready to manage: validated, defaults merged, userdata rendered (once per revision). */
export interface Preset {
  name: string;
  /** Where it came from: the store's file and revision (mtime hash, git commit). */
  source: { id: string; file: string; revision: string };
  /** The desired count (a `count:` that follows demand: its min, until a manage decides it). */
  count: number;
  /** `count:` as bounds that follow demand (docs/demand.md). */
  demand?: DemandSpec;
  image?: string;
  /** The first of `flavors`: what a VM is built with when the cloud has room for it. */
  flavor?: string;
  /** `flavor:` as a list (one entry for a single flavor): tried in order on capacity errors. */
  flavors: string[];
  /**
   * `network.availability_zone` as a list: VMs are spread evenly over two or more. With one zone it is also
   * `network.availabilityZone`; with several that is unset and each create gets its zone (zone-spread.ts).
   */
  zones: string[];
  keyName?: string;
  network: NetworkSpec;
  /** `server_group`: the group each new VM joins (a scheduling hint, outside the spec hash). */
  serverGroup?: ServerGroupSpec;
  /** Boot from a new volume (`volume:`). */
  volume?: VolumeSpec;
  /** `config_drive: true`. */
  configDrive?: boolean;
  userdata?: string;
  /** As written (YAML types), for the API and templates, as the original returned them. */
  metaTags: Record<string, JsonValue>;
  /** The same as text, for VM metadata (which holds text): non-text values as their JSON text. */
  metaTagText: Record<string, string>;
  panelLinks: Record<string, string>;
  manageIntervalMs: number;
  leaseTtlMs: number;
  unmanaged: boolean;
  iaas: DriverUse & {
    limits: { maxConcurrentCalls: number; callsPerSecond: number };
    shutdownGraceMs: number;
  };
  healthcheck: (DriverUse & { policy: HealthPolicy }) | null;
  scaleInOrder: ScaleInOrder;
  bootTimeoutMs: number;
  createConcurrency: number;
  update: UpdatePolicy;
  createBackoff: BackoffPolicy;
  scrubGraceMs: number;
  /** VMs named exactly after the preset without vmshepherd's metadata (the original's) are adopted. */
  adoptByName: boolean;
  /** `hooks:` (docs/hooks.md), when set. */
  hooks?: HooksPolicy;
  /** Hash of what a VM is built from (image, flavor, network, key, rendered userdata). */
  specHash: string;
  /** The same, field by field (what an in-place update compares and records). */
  specParts: SpecParts;
  /** Keys the schema does not know, kept for templates and shown to operators (never driver options). */
  extra: Record<string, unknown>;
}

/** `"40%"` of `total`, rounded down, or the count itself. */
export function resolveCountOrPercent(
  value: CountOrPercent,
  total: number,
  round: 'down' | 'up' = 'down',
): number {
  if (typeof value === 'number') return value;
  const share = (Number.parseFloat(value) / 100) * total;
  return round === 'down' ? Math.floor(share + 1e-9) : Math.ceil(share - 1e-9);
}
