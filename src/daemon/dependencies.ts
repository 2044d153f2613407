import type { Logger } from 'pino';
import type { ShepherdConfig } from '../config/load-config.js';
import { queryPrometheus } from '../drivers/demand/prometheus-query.js';
import type { MemoryTaskStore } from '../drivers/runtime/memory-tasks.js';
import type { HealthCheck, RuntimeStore, TaskStore } from '../drivers/types.js';
import type { Metrics } from '../observability/metrics.js';
import type { Preset } from '../presets/preset.js';
import type { PresetCatalog } from '../presets/preset-catalog.js';
import type { FleetHealth } from '../reconcile/fleet-guard.js';
import type { LeaseKeeper } from '../reconcile/lease-keeper.js';
import type { LockLevel } from '../reconcile/lock-keys.js';
import type { ManageDeps } from '../reconcile/manage-preset.js';
import type { Listing } from '../reconcile/observe.js';
import type { previewPreset } from '../reconcile/preview.js';
import { NO_TASKS, runPresetTasks, type TaskDeps } from '../reconcile/run-tasks.js';
import type { CycleContext } from '../reconcile/scheduler.js';
import type { Clock } from '../util/clock.js';
import type { Limiter } from '../util/limiter.js';
import type { CloudAccount } from './cloud-account.js';
import { accountListing, type DriverPool } from './driver-pool.js';
import type { KnownRevisions } from './known-revisions.js';

/** What outlives a reload and every dependency bag shares: this instance, its clock, metrics and memory. */
export interface SharedParts {
  readonly instanceId: string;
  readonly clock: Clock;
  readonly metrics: Metrics;
  /** Aborted when the daemon stops: calls in flight finish, no new step or cloud call starts. */
  readonly stopping: AbortSignal;
  readonly healthQueue: Limiter;
  /** Health of this instance's checked VMs, for the fleet-wide guard. */
  readonly fleetHealth: FleetHealth;
  /** Revisions of each preset this instance has read (see managePreset's unseenRevisions). */
  readonly knownRevisions: KnownRevisions;
  /** Task records when the runtime store keeps none (a plugin store): this process's only. */
  readonly localTasks: MemoryTaskStore;
  /** Waits for a refresh of the presets started after `since` (performance.now()). */
  refreshSince(since: number): Promise<void>;
}

/** The parts of one configuration the bags are made of (a reload builds new ones). */
export interface GenerationParts {
  config: ShepherdConfig;
  runtime: RuntimeStore;
  catalog: PresetCatalog;
  pool: DriverPool;
}

/** A preset's drivers, made by the pool. */
export interface PresetDrivers {
  cloud: CloudAccount;
  health: HealthCheck | null;
}

export type PreviewDeps = Parameters<typeof previewPreset>[1];

/** The dependency bags of one configuration: a manage's, a task run's, a preview's. */
export interface Dependencies {
  readonly runtime: RuntimeStore;
  /** The task records in force: the runtime store's, or this process's for a store that keeps none. */
  readonly tasks: TaskStore;
  /** What one manage of the preset works with, this cycle. */
  manage(preset: Preset, cycle: CycleContext, drivers: PresetDrivers, logger: Logger): ManageDeps;
  /** What a run of the preset's tasks works with. */
  taskRun(cloud: CloudAccount, logger: Logger): TaskDeps;
  /** What a preview of the preset (plan) works with. */
  preview(preset: Preset): Promise<PreviewDeps>;
}

/**
 * The one factory of dependency bags: the parts every bag shares (stores, this instance, limits, the
 * fleet guard) are made once per configuration, and each bag adds what is its own.
 */
export function buildDependencies(gen: GenerationParts, shared: SharedParts): Dependencies {
  const { config, runtime, catalog, pool } = gen;
  const { clock, metrics } = shared;
  const tasks = runtime.tasks ?? shared.localTasks;
  const base = {
    runtime,
    clock,
    instanceId: shared.instanceId,
    eventsKept: config.manage.events_kept,
    stopping: shared.stopping,
  };
  const locks = lockDeps(gen, metrics);
  const revisions = revisionDeps(catalog, shared);
  const fleet = {
    others: (preset: string) => shared.fleetHealth.others(preset),
    maxUnhealthy: config.manage.max_unhealthy_fleet,
  };
  const taskRun = (cloud: CloudAccount, logger: Logger): TaskDeps => ({
    ...base,
    tasks,
    cloud,
    logger,
    waitMs: config.tasks.stop_timeout * 1000,
    onFinished: (t) => metrics.verbTasks.inc({ verb: t.verb, state: t.state }),
    ...locks,
  });
  /**
   * How the manage runs the preset's tasks: all of them when the cycle's listing showed some, none (and
   * every verb wait stale) when it showed none, nothing known when the listing failed.
   */
  const tasksOf = (preset: Preset, cycle: CycleContext, cloud: CloudAccount, logger: Logger) => {
    if (cycle.urgent?.has(preset.name))
      return { tasks: (lease: LeaseKeeper) => runPresetTasks(preset, lease, taskRun(cloud, logger)) };
    return cycle.tasksListed ? { tasks: async () => NO_TASKS } : {};
  };
  return {
    runtime,
    tasks,
    taskRun,
    manage: (preset, cycle, { cloud, health }, logger) => {
      const sharedListing = cycleListing(cycle, cloud, clock, logger);
      // Written out, not spread from `base`: a manage reads these on every step, and a bag built by
      // spreading is slower to read (docs/performance.md).
      return {
        runtime,
        cloud,
        health,
        healthQueue: shared.healthQueue,
        clock,
        logger,
        instanceId: shared.instanceId,
        eventsKept: config.manage.events_kept,
        healthHistory: config.manage.health_history,
        stopping: shared.stopping,
        fleet,
        demandQuery: queryPrometheus,
        ...tasksOf(preset, cycle, cloud, logger),
        ...(sharedListing && cycle.id > 0 ? { sharedListing } : {}),
        freshPreset: revisions.freshPreset,
        knowsRevision: revisions.knowsRevision,
        currentPreset: revisions.currentPreset,
        ...locks,
      };
    },
    preview: async (preset) => ({
      cloud: await pool.account(preset),
      health: await pool.healthcheck(preset),
      runtime,
      healthQueue: shared.healthQueue,
      clock,
      healthHistory: config.manage.health_history,
      limits: config.limits,
      demandQuery: queryPrometheus,
      fleet: (p) => ({ others: fleet.others(p), maxUnhealthy: fleet.maxUnhealthy }),
    }),
  };
}

/** `limits:` with the store's locks (checked when the configuration was built); none without limits. */
function lockDeps(gen: GenerationParts, metrics: SharedParts['metrics']): Pick<ManageDeps, 'locks'> {
  const { runtime, config } = gen;
  if (!runtime.locks || Object.keys(config.limits).length === 0) return {};
  return {
    locks: {
      store: runtime.locks,
      limits: config.limits,
      onWait: (level: LockLevel) => metrics.lockWait(level),
    },
  };
}

/** How a manage learns of revisions of the preset it has not read (see ManageDeps). */
function revisionDeps(
  catalog: PresetCatalog,
  shared: SharedParts,
): Pick<ManageDeps, 'freshPreset' | 'knowsRevision' | 'currentPreset'> {
  const { knownRevisions } = shared;
  return {
    freshPreset: async (name: string, unseen: readonly string[], observedAt: number) => {
      await shared.refreshSince(observedAt);
      // Read now: a revision still not the store's is an older one (or one this store never had).
      for (const rev of unseen) knownRevisions.add(name, rev);
      return catalog.get(name);
    },
    knowsRevision: (name: string, rev: string) => knownRevisions.has(name, rev),
    currentPreset: (name: string) => catalog.get(name),
  };
}

/** The account's listing, made once per cycle for every preset on it, when the driver lists accounts. */
function cycleListing(
  cycle: CycleContext,
  cloud: CloudAccount,
  clock: Clock,
  logger: Logger,
): (() => Promise<Listing | undefined>) | undefined {
  if (!cloud.hasListAll) return undefined;
  const key = `listing:${cloud.key}`;
  return () => {
    let listing = cycle.shared.get(key) as Promise<Listing | undefined> | undefined;
    if (!listing) {
      listing = accountListing(cloud, clock, logger);
      cycle.shared.set(key, listing);
    }
    return listing;
  };
}
