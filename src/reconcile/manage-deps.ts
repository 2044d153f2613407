import type { Logger } from 'pino';
import type { CountOrPercent } from '../config/preset-schema.js';
import type { HealthCheck, LockStore, RuntimeStore } from '../drivers/types.js';
import type { Preset } from '../presets/preset.js';
import type { Clock } from '../util/clock.js';
import type { TaskLimiter } from '../util/limiter.js';
import type { Cloud } from './apply.js';
import type { DemandQuery } from './demand-phase.js';
import type { FleetCounts } from './fleet-guard.js';
import type { LeaseKeeper } from './lease-keeper.js';
import type { DisruptionLimits, LockLevel } from './lock-keys.js';
import type { Listing } from './observe.js';
import type { PresetTasksResult } from './run-tasks.js';

/** What one manage of a preset works with: the stores, the cloud, the checks, and this instance. */
export interface ManageDeps {
  runtime: RuntimeStore;
  cloud: Cloud;
  health: HealthCheck | null;
  healthQueue: TaskLimiter;
  clock: Clock;
  /** Already carries the preset name and instance id. */
  logger: Logger;
  instanceId: string;
  eventsKept: number;
  healthHistory: number;
  /** The account's listing for this cycle, when the driver can list a whole account at once. */
  sharedListing?: () => Promise<Listing | undefined>;
  /** Aborted when the daemon stops: calls in flight finish, no new step or cloud call starts. */
  stopping: AbortSignal;
  /** This instance's fleet health, for the fleet-wide guard (manage.max_unhealthy_fleet). */
  fleet?: { others(preset: string): FleetCounts; maxUnhealthy: CountOrPercent };
  /**
   * Runs the preset's queued and running tasks under the lease, before the manage reads the state; a
   * `manage` task among them forces this manage and is ended by `after`, before the lease is released.
   */
  tasks?: (lease: LeaseKeeper) => Promise<PresetTasksResult>;
  /**
   * The preset as the store has it now (the catalog refreshed first), or undefined when it is gone:
   * asked when the last manage, by another instance, used a different revision of the preset, or a VM
   * carries a revision this instance never read (`unseen`: known from now on, so asked once). The refresh
   * must have started after `observedAt` (performance.now() before the listing that showed it).
   */
  freshPreset?: (name: string, unseen: readonly string[], observedAt: number) => Promise<Preset | undefined>;
  /** Whether this instance has read that revision of the preset (its current one or an earlier one). */
  knowsRevision?: (name: string, revision: string) => boolean;
  /**
   * The preset as this instance's catalog holds it now, without reading the store (undefined: gone). The
   * preset a manage is given was read when its cycle began; a refresh since then may hold a newer one.
   */
  currentPreset?: (name: string) => Preset | undefined;
  /** `limits:` and the store's locks: disruptive calls wait for their slots (docs/locks.md). */
  locks?: { store: LockStore; limits: DisruptionLimits; onWait?: (level: LockLevel) => void };
  /** Reads the value of a count that follows demand (docs/demand.md); without it such a count is held. */
  demandQuery?: DemandQuery;
}
