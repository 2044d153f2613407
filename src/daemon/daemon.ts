import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { SpanExporter } from '@opentelemetry/sdk-trace-node';
import type { Logger } from 'pino';
import { type ConfigOverrides, loadConfig, type ShepherdConfig } from '../config/load-config.js';
import { queryPrometheus } from '../drivers/demand/prometheus-query.js';
import { ownPackageDir } from '../drivers/plugins.js';
import { DriverRegistry } from '../drivers/registry.js';
import { MemoryTaskStore } from '../drivers/runtime/memory-tasks.js';
import {
  type HealthCheck,
  isActiveTask,
  type PresetStore,
  type RuntimeStore,
  type TaskFilter,
  type TaskStore,
  type Vm,
} from '../drivers/types.js';
import { asShepherdError, ShepherdError } from '../errors/shepherd-error.js';
import { errorFields } from '../observability/error-fields.js';
import { createLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { activeTraceContext } from '../observability/task-tracing.js';
import { failSpan, inSpan, startTracing, stopTracing, tracingFromEnv } from '../observability/tracing.js';
import type { Preset } from '../presets/preset.js';
import type { PresetCatalog, RefreshReport } from '../presets/preset-catalog.js';
import { FleetHealth, fleetGuard } from '../reconcile/fleet-guard.js';
import type { LeaseKeeper } from '../reconcile/lease-keeper.js';
import { type ManageDeps, type ManageOutcome, managePreset } from '../reconcile/manage-preset.js';
import type { Listing } from '../reconcile/observe.js';
import { type PresetPreview, previewPreset } from '../reconcile/preview.js';
import { NO_TASKS, runPresetTasks } from '../reconcile/run-tasks.js';
import { checkVerb, checkVmKnown } from '../reconcile/run-verb.js';
import { type CycleContext, type CycleSummary, Scheduler } from '../reconcile/scheduler.js';
import { type PresetState, parseState, type VmSnapshot } from '../reconcile/state.js';
import { PRESET_ACTIONS, type TaskAction } from '../reconcile/task-steps.js';
import type { VerbName } from '../reconcile/verbs.js';
import { type Clock, systemClock } from '../util/clock.js';
import { Limiter } from '../util/limiter.js';
import { catalogFor } from './catalog-for.js';
import type { CloudAccount } from './cloud-account.js';
import { driverContext } from './driver-context.js';
import { accountListing, DriverPool } from './driver-pool.js';
import { KnownRevisions } from './known-revisions.js';
import type { HttpSettings, Operations } from './operations.js';
import { OrphanTasks } from './orphan-tasks.js';
import { type OrphanReport, OrphanTracker } from './orphans.js';
import { releaseGroups } from './release-groups.js';
import { newTask, type Task } from './tasks.js';

export interface DaemonOptions {
  configFile: string;
  overrides?: ConfigOverrides;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /** Tests and benchmarks: where JSON log lines go, and whether to pretty-print. */
  logDestination?: NodeJS.WritableStream;
  pretty?: boolean;
  /** Extra directories whose node_modules may hold plugin packages. */
  pluginRoots?: string[];
  /** Tests: where spans go (tracing is then on whatever the configuration says). */
  spanExporter?: SpanExporter;
}

/** Thrown when the configuration cannot be loaded; carries every error found. */
export class ConfigErrors extends Error {
  constructor(readonly errors: ShepherdError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'ConfigErrors';
  }
}

/** The parts built from one configuration; a reload builds new ones and swaps. */
interface Generation {
  config: ShepherdConfig;
  runtime: RuntimeStore;
  store: PresetStore;
  catalog: PresetCatalog;
  pool: DriverPool;
  unwatch: () => void;
}

/**
 * The vmshepherd process: loads the configuration, keeps the preset catalog fresh on its own interval,
 * and runs the scheduler. SIGHUP → reload(), SIGTERM → stop().
 */
export class Daemon implements Operations {
  readonly logger: Logger;
  readonly instanceId: string;
  private gen: Generation;
  private scheduler: Scheduler;
  private readonly healthQueue: Limiter;
  private readonly stopping = new AbortController();
  private refreshTimer: NodeJS.Timeout | undefined;
  /** Revisions of each preset this instance has read (see managePreset's unseenRevisions). */
  private readonly knownRevisions = new KnownRevisions();
  private readonly orphanTasks = new OrphanTasks();
  /** When the latest preset refresh started (performance.now()). */
  private refreshStartedAt = Number.NEGATIVE_INFINITY;
  private refreshing: Promise<RefreshReport> | undefined;
  /** The release of unused server groups after a refresh (one at a time; see releaseGroups). */
  private releasing: Promise<void> | undefined;
  private readonly reported = new Set<string>();
  /** Last outcome per preset seen by this instance (for the CLI, API and tests). */
  readonly outcomes = new Map<string, ManageOutcome>();
  /** Health of this instance's checked VMs, for the fleet-wide guard. */
  private readonly fleetHealth = new FleetHealth();
  readonly metrics = new Metrics();
  /** Task records when the runtime store keeps none (a plugin store): this process's only. */
  private readonly localTasks = new MemoryTaskStore();
  /** Monotonic ms of the last purge of finished tasks. */
  private lastPurge = Number.NEGATIVE_INFINITY;
  private readonly presetLoggers = new Map<string, Logger>();
  private readonly orphanTracker = new OrphanTracker();
  onCycle: ((summary: CycleSummary) => void) | undefined;

  private constructor(
    private readonly options: DaemonOptions,
    private readonly registry: DriverRegistry,
    private readonly clock: Clock,
    config: ShepherdConfig,
  ) {
    this.instanceId = config.instanceId ?? `${hostname()}-${process.pid}`;
    this.logger = createLogger({
      level: config.logLevel,
      instance: this.instanceId,
      ...(options.pretty !== undefined ? { pretty: options.pretty } : {}),
      ...(options.logDestination ? { destination: options.logDestination } : {}),
    });
    this.healthQueue = new Limiter(config.manage.health_concurrency);
    this.gen = undefined as unknown as Generation;
    this.scheduler = undefined as unknown as Scheduler;
  }

  static async create(options: DaemonOptions): Promise<Daemon> {
    const registry = Daemon.registryFor(options);
    const config = await Daemon.load(options, registry);
    const daemon = new Daemon(options, registry, options.clock ?? systemClock, config);
    if (config.tracing || options.spanExporter || tracingFromEnv(options.env ?? process.env)) {
      await startTracing({
        serviceName: config.tracing?.service_name ?? 'vmshepherd',
        instanceId: daemon.instanceId,
        sampleRatio: config.tracing?.sample_ratio ?? 1,
        ...(config.tracing?.otlp_endpoint ? { endpoint: config.tracing.otlp_endpoint } : {}),
        ...(config.tracing?.headers ? { headers: config.tracing.headers } : {}),
        ...(options.spanExporter ? { exporter: options.spanExporter } : {}),
      });
    }
    daemon.gen = await daemon.build(config, undefined);
    daemon.scheduler = daemon.makeScheduler();
    return daemon;
  }

  static registryFor(options: Pick<DaemonOptions, 'configFile' | 'pluginRoots'>): DriverRegistry {
    return new DriverRegistry([
      process.cwd(),
      resolve(options.configFile, '..'),
      ownPackageDir(),
      ...(options.pluginRoots ?? []),
    ]);
  }

  private static async load(options: DaemonOptions, registry: DriverRegistry): Promise<ShepherdConfig> {
    const { config, errors } = await loadConfig(options.configFile, registry, {
      ...(options.env ? { env: options.env } : {}),
      ...(options.overrides ? { overrides: options.overrides } : {}),
    });
    if (!config) throw new ConfigErrors(errors);
    return config;
  }

  get config(): ShepherdConfig {
    return this.gen.config;
  }

  get catalog(): PresetCatalog {
    return this.gen.catalog;
  }

  /** The preset store in force (GitRepoDriver's has `status()`: repositories, commits, problems). */
  get presetStore(): PresetStore {
    return this.gen.store;
  }

  get runtime(): RuntimeStore {
    return this.gen.runtime;
  }

  get drivers(): DriverPool {
    return this.gen.pool;
  }

  presets(): Preset[] {
    return this.gen.catalog.presets();
  }

  preset(name: string): Preset | undefined {
    return this.gen.catalog.get(name);
  }

  http(): HttpSettings {
    return this.gen.config.http;
  }

  async probeRuntime(): Promise<void> {
    await this.gen.runtime.load('__readyz__');
  }

  async cloudVm(preset: Preset, vmId: string): Promise<Vm | null> {
    return (await this.gen.pool.account(preset)).get(vmId);
  }

  /** Re-reads the preset store (cheap when nothing changed) and logs what changed and what is broken. */
  refreshPresets(): Promise<RefreshReport> {
    const before = this.presets();
    if (!this.refreshing) {
      this.refreshStartedAt = performance.now();
      this.refreshing = this.gen.catalog.refresh().finally(() => {
        this.refreshing = undefined;
      });
    }
    return this.refreshing.then((report) => this.noteRefresh(before, report));
  }

  /**
   * Waits for a refresh of the presets that started after `since` (performance.now()), starting one if
   * needed: one started earlier (in flight before a pause, say) may hold what the store had before a change
   * the caller has seen the effects of. Manages that saw the change at about the same time share one.
   */
  private async refreshSince(since: number): Promise<void> {
    if (this.refreshing && this.refreshStartedAt >= since) {
      await this.refreshing.catch(() => undefined);
      return;
    }
    await this.refreshing?.catch(() => undefined);
    if (this.refreshing && this.refreshStartedAt >= since) await this.refreshing.catch(() => undefined);
    else if (this.refreshStartedAt < since) await this.refreshPresets();
  }

  private noteRefresh(before: Preset[], report: RefreshReport): RefreshReport {
    for (const p of before) this.knownRevisions.add(p.name, p.source.revision);
    this.orphanTracker.note(before, report, this.clock.now(), this.logger);
    this.logRefresh(report);
    if (!this.stopping.signal.aborted)
      this.releasing ??= releaseGroups(
        this.presets(),
        (p) => this.gen.pool.account(p),
        () => this.gen.pool.allAccounts(),
        this.logger,
        this.stopping.signal,
      ).finally(() => {
        this.releasing = undefined;
      });
    return report;
  }

  /**
   * VMs of presets that are no longer configured (their file was removed, or a valid commit dropped it),
   * seen through the cloud accounts. They are left alone: listed here for the API and panel only.
   */
  orphans(): Promise<OrphanReport> {
    return this.orphanTracker.list(this.presets(), (preset) => this.gen.pool.account(preset));
  }

  /** One refresh and one cycle (`--run-once`). */
  async runOnce(): Promise<CycleSummary> {
    await this.refreshPresets();
    return this.scheduler.runCycle();
  }

  /** True while a manage cycle runs: the HTTP server then paces its requests (RequestGate). */
  isCycling(): boolean {
    return this.scheduler?.busy ?? false;
  }

  /** One cycle over the presets as they are (the refresh runs on its own interval). */
  runCycle(): Promise<CycleSummary> {
    return this.scheduler.runCycle();
  }

  /** The task records in force: the runtime store's, or this process's for a store that keeps none. */
  get taskStore(): TaskStore {
    return this.gen.runtime.tasks ?? this.localTasks;
  }

  /**
   * Records a verb on a VM of a preset as a queued task and returns it at once; whichever instance holds
   * (or next takes) the preset's lease runs it. An unknown preset or VM, an illegal transition or a verb
   * the cloud cannot do is refused here, before anything is stored. A key used before returns its task.
   */
  requestVerb(
    presetName: string,
    vmId: string,
    verb: VerbName,
    by: string,
    idempotencyKey?: string,
  ): Promise<Task> {
    return this.requestTask(presetName, verb, by, { vm: vmId, idempotencyKey });
  }

  /**
   * Records an operator's action as a queued task and returns it at once, like a verb: `manage` (now,
   * whatever the interval), `pause`, `resume` (every instance honours it), `terminate` (a VM of the preset;
   * the loop replaces it).
   */
  async requestTask(
    presetName: string,
    action: TaskAction,
    by: string,
    o: { vm?: string | undefined; idempotencyKey?: string | undefined } = {},
  ): Promise<Task> {
    const store = this.taskStore;
    if (o.idempotencyKey !== undefined) {
      const existing = await store.getTaskByKey(o.idempotencyKey);
      if (existing) return existing;
    }
    const preset = this.presetNamed(presetName);
    const vm = o.vm;
    if (action === 'terminate') await checkVmKnown(preset, vm ?? '', this.gen.runtime);
    else if (vm !== undefined && !(PRESET_ACTIONS as readonly string[]).includes(action)) {
      const cloud = await this.gen.pool.account(preset);
      await checkVerb(
        { preset, vmId: vm, verb: action as VerbName, by },
        { runtime: this.gen.runtime, cloud },
      );
    }
    const { task, created } = await store.submitTask(
      newTask(
        {
          preset: preset.name,
          verb: action,
          by,
          ...(action === 'terminate' || !(PRESET_ACTIONS as readonly string[]).includes(action)
            ? { vm }
            : {}),
          idempotencyKey: o.idempotencyKey,
          trace: activeTraceContext(),
        },
        this.clock.now(),
      ),
    );
    if (created)
      this.presetLogger(preset.name).info({ task: task.id, vm, verb: action, by }, 'task submitted');
    this.scheduler.markDue(preset.name);
    return task;
  }

  /** Waits until a task ended (polling the store), at most `timeoutMs`; returns it as it is then. */
  async taskEnded(id: string, timeoutMs: number): Promise<Task> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const task = await this.getTask(id);
      if (!isActiveTask(task) || performance.now() >= until) return task;
      await this.clock.sleep(200);
    }
  }

  /** Tasks of every instance, newest first. */
  listTasks(filter: TaskFilter = {}): Promise<Task[]> {
    return this.taskStore.listTasks(filter);
  }

  async getTask(id: string): Promise<Task> {
    const task = await this.taskStore.getTask(id);
    if (!task) throw new ShepherdError('api_task_0001', id);
    return task;
  }

  /** Cancels a task that no instance took up yet. */
  cancelTask(id: string, by: string): Promise<Task> {
    return this.taskStore.cancelTask(id, by);
  }

  /** The preset's state as last saved by whichever instance managed it. */
  async presetState(name: string): Promise<PresetState> {
    return parseState(await this.gen.runtime.load(name));
  }

  private presetNamed(name: string): Preset {
    const preset = this.gen.catalog.get(name);
    if (!preset) throw new ShepherdError('cli_preset_1001', name);
    return preset;
  }

  /** What the next manage of each preset (or of one) would do, touching nothing. */
  async plan(name?: string): Promise<PresetPreview[]> {
    const presets =
      name === undefined
        ? this.presets()
        : [this.gen.catalog.get(name)].filter((p): p is Preset => p !== undefined);
    if (name !== undefined && presets.length === 0) throw new ShepherdError('cli_preset_1001', name);
    return Promise.all(
      presets.map(async (preset) =>
        previewPreset(preset, {
          cloud: await this.gen.pool.account(preset),
          health: await this.gen.pool.healthcheck(preset),
          runtime: this.gen.runtime,
          healthQueue: this.healthQueue,
          clock: this.clock,
          healthHistory: this.gen.config.manage.health_history,
          limits: this.gen.config.limits,
          demandQuery: queryPrometheus,
          fleet: (p) => {
            const f = this.fleetDeps();
            return { others: f.others(p), maxUnhealthy: f.maxUnhealthy };
          },
        }),
      ),
    );
  }

  private fleetDeps() {
    return {
      others: (preset: string) => this.fleetHealth.others(preset),
      maxUnhealthy: this.gen.config.manage.max_unhealthy_fleet,
    };
  }

  /** Counts the preset's checked and failing VMs into the fleet's (again only when its VM list changed). */
  private noteFleetHealth(preset: Preset, vms: readonly VmSnapshot[]): void {
    if (!preset.healthcheck) this.fleetHealth.note(preset.name, undefined);
    else this.fleetHealth.noteVms(preset.name, vms);
  }

  /** The fleet guard in metrics, once per cycle (not per manage). */
  private showFleetHealth(): void {
    const totals = this.fleetHealth.totals();
    const verdict = fleetGuard(
      totals,
      { checked: 0, failing: 0 },
      this.gen.config.manage.max_unhealthy_fleet,
    );
    this.metrics.fleetChecked.set(totals.checked);
    this.metrics.fleetFailing.set(totals.failing);
    this.metrics.fleetGuard.set(verdict.active ? 1 : 0);
  }

  async start(): Promise<void> {
    await this.refreshPresets();
    this.scheduleRefresh();
    this.scheduler.start();
    this.logger.info(
      {
        presets: this.presets().length,
        config: this.gen.config.file,
        worker_interval: this.gen.config.workerIntervalMs / 1000,
      },
      'vmshepherd started',
    );
  }

  /**
   * Reads the configuration again. A broken configuration is rejected and the running one kept. Drivers
   * whose options did not change are kept; in-flight manages finish first.
   */
  async reload(): Promise<boolean> {
    let config: ShepherdConfig;
    try {
      config = await Daemon.load(this.options, this.registry);
    } catch (err) {
      const errors = err instanceof ConfigErrors ? err.errors : [err as ShepherdError];
      for (const e of errors)
        this.logger.error(
          { code: e.code, at: e.at },
          `reload rejected, keeping the running configuration: ${e.message}`,
        );
      return false;
    }
    const wasRunning = this.refreshTimer !== undefined;
    await this.scheduler.stop();
    clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
    const old = this.gen;
    const before = this.presets();
    const next = await this.build(config, old);
    // The new catalog is filled before it is in force: the API never sees an empty list mid-reload.
    const report = await next.catalog.refresh();
    if (before.length > 0 && next.catalog.presets().length === 0) {
      // A path that moved or a wrong store would stop managing every preset: never taken from a reload.
      await this.discard(next, old);
      const e = new ShepherdError('preset_load_1011', `${before.length} presets now, none after it`);
      const why = report.problems.map((p) => p.message).join('; ');
      this.logger.error(
        { code: e.code, problems: report.problems.map((p) => p.code) },
        `reload rejected, keeping the running configuration: ${e.message}${why ? ` (${why})` : ''}`,
      );
      if (wasRunning) {
        this.scheduleRefresh();
        this.scheduler.start();
      }
      return false;
    }
    this.gen = next;
    await this.retire(old, next);
    this.logger.level = config.logLevel;
    this.presetLoggers.clear(); // children keep the level they were made with
    this.scheduler = this.makeScheduler();
    this.noteRefresh(before, report);
    if (wasRunning) {
      this.scheduleRefresh();
      this.scheduler.start();
    }
    this.logger.info({ presets: this.presets().length }, 'configuration reloaded');
    return true;
  }

  /** Stops starting work, lets manages in flight finish their calls, releases leases, closes drivers. */
  async stop(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
    await this.scheduler.stop();
    await this.releasing;
    await this.gen.pool.close();
    this.gen.unwatch();
    await this.gen.store.close?.();
    await this.gen.runtime.close?.();
    await stopTracing().catch((err) =>
      this.logger.warn({ err, code: 'observability_export_2001' }, 'trace export failed'),
    );
    this.logger.info('vmshepherd stopped');
    await new Promise<void>((done) => this.logger.flush(() => done()));
  }

  private async build(config: ShepherdConfig, old: Generation | undefined): Promise<Generation> {
    for (const w of config.warnings) this.logger.warn({ code: w.code, at: w.at }, w.message);
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    const ctx = (driver: string) =>
      driverContext(this.logger, this.clock, this.instanceId, config.baseDir, driver);
    const keepRuntime = old && same(old.config.runtime, config.runtime);
    const keepStore =
      old && same(old.config.presets, config.presets) && old.config.baseDir === config.baseDir;
    const runtime = keepRuntime
      ? old.runtime
      : ((await (
          await this.registry.resolve('runtime', config.runtime.driver)
        ).create(config.runtime.options, ctx(config.runtime.driver))) as RuntimeStore);
    const store = keepStore
      ? old.store
      : ((await (
          await this.registry.resolve('presets', config.presets.driver)
        ).create(config.presets.options, ctx(config.presets.driver))) as PresetStore);
    if (Object.keys(config.limits).length > 0 && !runtime.locks) {
      if (!keepRuntime) await runtime.close?.();
      throw new ShepherdError(
        'runtime_lock_1001',
        `runtime driver ${config.runtime.driver} keeps no locks, and limits: are set`,
      );
    }
    const catalog = catalogFor(config, this.registry, store);
    const pool = new DriverPool(this.registry, this.logger, this.clock, this.instanceId, config.baseDir);
    pool.onCloudCall = (e) => this.metrics.cloudCall(e);
    const unwatch = keepStore
      ? old.unwatch
      : (store.watch?.(debounce(() => void this.refreshPresets(), 300)) ?? (() => {}));
    return { config, runtime, store, catalog, pool, unwatch };
  }

  /** Closes what the old generation had and the new one does not share. */
  private async retire(old: Generation, next: Generation): Promise<void> {
    if (next.runtime !== old.runtime) await old.runtime.close?.();
    if (next.store !== old.store) {
      old.unwatch();
      await old.store.close?.();
    }
    await old.pool.close();
  }

  /** Closes what a refused generation made for itself (what it shares with the one in force stays). */
  private async discard(next: Generation, old: Generation): Promise<void> {
    await this.retire(next, old);
  }

  /** `limits:` for the manage, with the store's locks (checked when the configuration was built). */
  private lockDeps(): Pick<ManageDeps, 'locks'> {
    const { limits } = this.gen.config;
    const store = this.gen.runtime.locks;
    if (!store || Object.keys(limits).length === 0) return {};
    return { locks: { store, limits, onWait: (level) => this.metrics.lockWait(level) } };
  }

  private makeScheduler(): Scheduler {
    return new Scheduler({
      concurrency: this.gen.config.manage.concurrency,
      intervalMs: () => this.gen.config.workerIntervalMs,
      clock: this.clock,
      logger: this.logger,
      presets: () => this.gen.catalog.presets(),
      manage: (preset, cycle) => this.manage(preset, cycle, false),
      urgent: () => this.presetsWithTasks(),
      onCycle: (s) => {
        const { cycle, durationMs, ...counts } = s;
        const level =
          s.failed > 0 || s.failedActions > 0 ? 'warn' : s.managed > 0 || s.cycle === 1 ? 'info' : 'debug';
        this.logger[level]({ cycle, ...counts, duration_ms: Math.round(durationMs) }, 'cycle');
        this.metrics.cycle(s);
        this.showFleetHealth();
        this.purgeTasks();
        this.onCycle?.(s);
      },
    });
  }

  /** Presets with queued or running tasks: managed this cycle whatever their interval. */
  private async presetsWithTasks(): Promise<ReadonlySet<string> | undefined> {
    try {
      const active = await this.taskStore.listTasks({ active: true });
      this.cancelOrphanTasks(active);
      return new Set(active.map((t) => t.preset));
    } catch (err) {
      const e = asShepherdError(err, 'daemon_run_1001');
      this.logger.warn({ code: e.code, err: e.message }, 'cannot list the queued tasks');
      return undefined;
    }
  }

  /** Cancels, in the background, the waiting tasks of presets gone for longer than the grace. */
  private cancelOrphanTasks(active: readonly Task[]): void {
    const catalog = this.gen.catalog;
    const presence = {
      managed: (name: string) => catalog.get(name) !== undefined,
      uncertain: () => catalog.uncertain(),
    };
    for (const t of this.orphanTasks.due(active, presence, this.clock.now())) {
      void this.taskStore
        .cancelTask(t.id, `vmshepherd: preset ${t.preset} is gone`)
        .then(() =>
          this.logger.warn({ task: t.id, preset: t.preset }, 'task of a preset that is gone cancelled'),
        )
        .catch((err) => {
          const e = asShepherdError(err, 'daemon_run_1001');
          this.logger.warn(
            { task: t.id, code: e.code, err: e.message },
            'cannot cancel a task of a gone preset',
          );
        });
    }
  }

  /** Deletes finished tasks older than `tasks.keep`, at most every ten minutes, in the background. */
  private purgeTasks(): void {
    const now = performance.now();
    if (now - this.lastPurge < 600_000) return;
    this.lastPurge = now;
    const before = this.clock.now() - this.gen.config.tasks.keep * 1000;
    void this.taskStore
      .purgeTasks(before)
      .then((n) => {
        if (n > 0) this.logger.info({ purged: n }, 'finished tasks purged');
      })
      .catch((err) => {
        const e = asShepherdError(err, 'daemon_run_1001');
        this.logger.warn({ code: e.code, err: e.message }, 'cannot purge finished tasks');
      });
  }

  private presetLogger(name: string): Logger {
    let logger = this.presetLoggers.get(name);
    if (!logger) {
      logger = this.logger.child({ preset: name });
      this.presetLoggers.set(name, logger);
    }
    return logger;
  }

  private async manage(preset: Preset, cycle: CycleContext, force: boolean): Promise<ManageOutcome> {
    const logger = this.presetLogger(preset.name);
    const drivers = await this.presetDrivers(preset, logger);
    if ('result' in drivers) return drivers;
    const deps = this.manageDeps(preset, cycle, drivers.cloud, drivers.health, logger);
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
  private async presetDrivers(
    preset: Preset,
    logger: Logger,
  ): Promise<{ cloud: CloudAccount; health: HealthCheck | null } | ManageOutcome> {
    const pool = this.gen.pool;
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

  /** What one manage of the preset works with, this cycle. */
  private manageDeps(
    preset: Preset,
    cycle: CycleContext,
    cloud: CloudAccount,
    health: HealthCheck | null,
    logger: Logger,
  ): ManageDeps {
    const listingKey = `listing:${cloud.key}`;
    const sharedListing = cloud.hasListAll
      ? () => {
          let listing = cycle.shared.get(listingKey) as Promise<Listing | undefined> | undefined;
          if (!listing) {
            listing = accountListing(cloud, this.clock, logger);
            cycle.shared.set(listingKey, listing);
          }
          return listing;
        }
      : undefined;
    return {
      runtime: this.gen.runtime,
      cloud,
      health,
      healthQueue: this.healthQueue,
      clock: this.clock,
      logger,
      instanceId: this.instanceId,
      eventsKept: this.gen.config.manage.events_kept,
      healthHistory: this.gen.config.manage.health_history,
      stopping: this.stopping.signal,
      fleet: this.fleetDeps(),
      demandQuery: queryPrometheus,
      ...this.tasksOf(preset, cycle, cloud, logger),
      ...(sharedListing && cycle.id > 0 ? { sharedListing } : {}),
      freshPreset: async (name: string, unseen: readonly string[], observedAt: number) => {
        await this.refreshSince(observedAt);
        // Read now: a revision still not the store's is an older one (or one this store never had).
        for (const rev of unseen) this.knownRevisions.add(name, rev);
        return this.gen.catalog.get(name);
      },
      knowsRevision: (name: string, rev: string) => this.knownRevisions.has(name, rev),
      ...this.lockDeps(),
    };
  }

  /**
   * How the manage runs the preset's tasks: all of them when the cycle's listing showed some, none (and
   * every verb wait stale) when it showed none, nothing known when the listing failed.
   */
  private tasksOf(
    preset: Preset,
    cycle: CycleContext,
    cloud: CloudAccount,
    logger: Logger,
  ): Pick<ManageDeps, 'tasks'> {
    if (cycle.urgent?.has(preset.name))
      return {
        tasks: (lease: LeaseKeeper) =>
          runPresetTasks(preset, lease, {
            tasks: this.taskStore,
            runtime: this.gen.runtime,
            cloud,
            clock: this.clock,
            logger,
            instanceId: this.instanceId,
            eventsKept: this.gen.config.manage.events_kept,
            stopping: this.stopping.signal,
            waitMs: this.gen.config.tasks.stop_timeout * 1000,
            onFinished: (t) => this.metrics.verbTasks.inc({ verb: t.verb, state: t.state }),
            ...this.lockDeps(),
          }),
      };
    return cycle.tasksListed ? { tasks: async () => NO_TASKS } : {};
  }

  /** What a manage's outcome changes here: metrics, the fleet's health, the debug line. */
  private afterManage(preset: Preset, outcome: ManageOutcome, logger: Logger): void {
    this.outcomes.set(preset.name, outcome);
    this.metrics.manage(outcome);
    this.metrics.lockWaiting(preset.name, outcome.lockWaits);
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

  private scheduleRefresh(): void {
    this.refreshTimer = setTimeout(() => {
      void this.refreshPresets()
        .catch((err) => this.logger.error({ err, code: 'preset_load_2001' }, 'preset refresh failed'))
        .finally(() => {
          if (this.refreshTimer !== undefined && !this.stopping.signal.aborted) this.scheduleRefresh();
        });
    }, this.gen.config.manage.refresh_interval * 1000);
    this.refreshTimer.unref();
  }

  /** Logs preset changes, and each problem once (not on every refresh while it persists). */
  private logRefresh(report: RefreshReport): void {
    this.metrics.presets.set(this.presets().length);
    this.metrics.presetProblems.reset();
    for (const p of report.problems) this.metrics.presetProblems.inc({ code: p.code });
    for (const name of report.removed) {
      this.metrics.forgetPreset(name);
      this.presetLoggers.delete(name);
      this.fleetHealth.note(name, undefined);
    }
    if (report.added.length || report.changed.length || report.removed.length) {
      this.logger.info(
        {
          added: report.added.length,
          changed: report.changed,
          removed: report.removed,
          compiled: report.compiled,
        },
        'presets loaded',
      );
      for (const name of [...report.changed, ...report.removed]) this.scheduler?.markDue(name);
    }
    const current = new Set<string>();
    for (const p of report.problems) {
      current.add(p.message);
      if (this.reported.has(p.message)) continue;
      const level = p.isWarning ? 'warn' : 'error';
      this.logger[level]({ code: p.code, at: p.at }, p.message);
    }
    this.reported.clear();
    for (const m of current) this.reported.add(m);
  }
}

function debounce(fn: () => void, ms: number): () => void {
  let timer: NodeJS.Timeout | undefined;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
    timer.unref();
  };
}
