import type { Logger } from 'pino';
import { asShepherdError, ShepherdError } from '../errors/shepherd-error.js';
import { errorFields } from '../observability/error-fields.js';
import { failSpan, inSpan } from '../observability/tracing.js';
import type { Preset } from '../presets/preset.js';
import { fleetGuard } from '../reconcile/fleet-guard.js';
import { type ManageOutcome, managePreset } from '../reconcile/manage-preset.js';
import { type CycleContext, type CycleSummary, Scheduler } from '../reconcile/scheduler.js';
import type { VmSnapshot } from '../reconcile/state.js';
import type { DaemonParts } from './daemon-parts.js';
import type { PresetDrivers } from './dependencies.js';
import { OrphanTasks } from './orphan-tasks.js';
import type { Task } from './tasks.js';

/**
 * The cycles' glue around the loop: a scheduler over the generation in force, each manage with its
 * drivers, span and aftermath (metrics, the fleet's health), and once per cycle the queued tasks asked
 * for, orphaned ones cancelled and finished ones purged.
 */
export class ManageCycles {
  /** Last outcome per preset seen by this instance (for the CLI, API and tests). */
  readonly outcomes = new Map<string, ManageOutcome>();
  private readonly orphanTasks = new OrphanTasks();
  /** Monotonic ms of the last purge of finished tasks. */
  private lastPurge = Number.NEGATIVE_INFINITY;

  constructor(private readonly parts: DaemonParts) {}

  /** A scheduler for the generation in force (a reload makes a new one); `onCycle` after each cycle. */
  scheduler(onCycle: (summary: CycleSummary) => void): Scheduler {
    const { parts } = this;
    return new Scheduler({
      concurrency: parts.gen().config.manage.concurrency,
      intervalMs: () => parts.gen().config.workerIntervalMs,
      clock: parts.clock,
      logger: parts.logger,
      presets: () => parts.gen().catalog.presets(),
      manage: (preset, cycle) => this.manage(preset, cycle, false),
      urgent: () => this.presetsWithTasks(),
      onCycle: (s) => {
        const { cycle, durationMs, ...counts } = s;
        const level =
          s.failed > 0 || s.failedActions > 0 ? 'warn' : s.managed > 0 || s.cycle === 1 ? 'info' : 'debug';
        parts.logger[level]({ cycle, ...counts, duration_ms: Math.round(durationMs) }, 'cycle');
        parts.metrics.cycle(s);
        this.showFleetHealth();
        this.purgeTasks();
        onCycle(s);
      },
    });
  }

  private async manage(preset: Preset, cycle: CycleContext, force: boolean): Promise<ManageOutcome> {
    const logger = this.parts.loggers.get(preset.name);
    const drivers = await this.presetDrivers(preset, logger);
    if ('result' in drivers) return drivers;
    const deps = this.parts.gen().deps.manage(preset, cycle, drivers, logger);
    const outcome = await inSpan('vmshepherd.manage', { 'vmshepherd.preset': preset.name }, async (span) => {
      const o = await managePreset(preset, deps, { force });
      span.setAttributes({
        'vmshepherd.result': o.result,
        'vmshepherd.created': o.created,
        'vmshepherd.terminated': o.terminated,
        ...(o.lease ? { 'vmshepherd.fence': o.lease.token } : {}),
      });
      if (o.error) failSpan(span, o.error);
      return o;
    });
    this.afterManage(preset, outcome, logger);
    return outcome;
  }

  /** The preset's cloud account and health check, or the failed outcome when they cannot be made. */
  private async presetDrivers(preset: Preset, logger: Logger): Promise<PresetDrivers | ManageOutcome> {
    const pool = this.parts.gen().pool;
    try {
      const [cloud, health] = await Promise.all([pool.account(preset), pool.healthcheck(preset)]);
      return { cloud, health };
    } catch (err) {
      const error =
        err instanceof ShepherdError
          ? err
          : new ShepherdError('daemon_run_1001', (err as Error).message, { cause: err });
      logger.error(errorFields(error), "cannot create the preset's drivers");
      return {
        preset: preset.name,
        result: 'failed',
        created: 0,
        terminated: 0,
        failedActions: 0,
        lastManagedAt: null,
        durationMs: 0,
        error,
      };
    }
  }

  /** What a manage's outcome changes here: metrics, the fleet's health, the debug line. */
  private afterManage(preset: Preset, outcome: ManageOutcome, logger: Logger): void {
    const { metrics } = this.parts;
    this.outcomes.set(preset.name, outcome);
    metrics.manage(outcome);
    metrics.lockWaiting(preset.name, outcome.lockWaits);
    if (outcome.state) this.noteFleetHealth(preset, outcome.state.vms);
    const { result, created, terminated, failedActions, durationMs } = outcome;
    logger.debug(
      {
        result,
        created,
        terminated,
        failed_actions: failedActions,
        duration_ms: Math.round(durationMs),
        phase: outcome.state?.status?.phase,
      },
      'manage',
    );
  }

  /** Counts the preset's checked and failing VMs into the fleet's (again only when its VM list changed). */
  private noteFleetHealth(preset: Preset, vms: readonly VmSnapshot[]): void {
    if (!preset.healthcheck) this.parts.fleetHealth.note(preset.name, undefined);
    else this.parts.fleetHealth.noteVms(preset.name, vms);
  }

  /** The fleet guard in metrics, once per cycle (not per manage). */
  private showFleetHealth(): void {
    const { metrics, fleetHealth } = this.parts;
    const totals = fleetHealth.totals();
    const verdict = fleetGuard(
      totals,
      { checked: 0, failing: 0 },
      this.parts.gen().config.manage.max_unhealthy_fleet,
    );
    metrics.fleetChecked.set(totals.checked);
    metrics.fleetFailing.set(totals.failing);
    metrics.fleetGuard.set(verdict.active ? 1 : 0);
  }

  /** Presets with queued or running tasks: managed this cycle whatever their interval. */
  private async presetsWithTasks(): Promise<ReadonlySet<string> | undefined> {
    try {
      const active = await this.parts.gen().deps.tasks.listTasks({ active: true });
      this.cancelOrphanTasks(active);
      return new Set(active.map((t) => t.preset));
    } catch (err) {
      const e = asShepherdError(err, 'daemon_run_1001');
      this.parts.logger.warn({ code: e.code, err: e.message }, 'cannot list the queued tasks');
      return undefined;
    }
  }

  /** Cancels, in the background, the waiting tasks of presets gone for longer than the grace. */
  private cancelOrphanTasks(active: readonly Task[]): void {
    const { catalog, deps } = this.parts.gen();
    const { logger } = this.parts;
    const presence = {
      managed: (name: string) => catalog.get(name) !== undefined,
      uncertain: () => catalog.uncertain(),
    };
    for (const t of this.orphanTasks.due(active, presence, this.parts.clock.now())) {
      void deps.tasks
        .cancelTask(t.id, `vmshepherd: preset ${t.preset} is gone`)
        .then(() => logger.warn({ task: t.id, preset: t.preset }, 'task of a preset that is gone cancelled'))
        .catch((err) => {
          const e = asShepherdError(err, 'daemon_run_1001');
          logger.warn({ task: t.id, code: e.code, err: e.message }, 'cannot cancel a task of a gone preset');
        });
    }
  }

  /** Deletes finished tasks older than `tasks.keep`, at most every ten minutes, in the background. */
  private purgeTasks(): void {
    const now = performance.now();
    if (now - this.lastPurge < 600_000) return;
    this.lastPurge = now;
    const { config, deps } = this.parts.gen();
    const { logger } = this.parts;
    const before = this.parts.clock.now() - config.tasks.keep * 1000;
    void deps.tasks
      .purgeTasks(before)
      .then((n) => {
        if (n > 0) logger.info({ purged: n }, 'finished tasks purged');
      })
      .catch((err) => {
        const e = asShepherdError(err, 'daemon_run_1001');
        logger.warn({ code: e.code, err: e.message }, 'cannot purge finished tasks');
      });
  }
}
