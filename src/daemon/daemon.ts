import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { SpanExporter } from '@opentelemetry/sdk-trace-node';
import type { Logger } from 'pino';
import { type ConfigOverrides, loadConfig, type ShepherdConfig } from '../config/load-config.js';
import { ownPackageDir } from '../drivers/plugins.js';
import { DriverRegistry } from '../drivers/registry.js';
import { MemoryTaskStore } from '../drivers/runtime/memory-tasks.js';
import type { PresetStore, RuntimeStore, TaskStore } from '../drivers/types.js';
import { ShepherdError } from '../errors/shepherd-error.js';
import { createLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { startTracing, stopTracing, tracingFromEnv } from '../observability/tracing.js';
import type { PresetCatalog, RefreshReport } from '../presets/preset-catalog.js';
import { FleetHealth } from '../reconcile/fleet-guard.js';
import type { ManageOutcome } from '../reconcile/manage-preset.js';
import type { CycleSummary, Scheduler } from '../reconcile/scheduler.js';
import { type Clock, systemClock } from '../util/clock.js';
import { Limiter } from '../util/limiter.js';
import { DaemonOperations } from './daemon-operations.js';
import type { DaemonParts } from './daemon-parts.js';
import type { DriverPool } from './driver-pool.js';
import { buildGeneration, closeGeneration, type Generation, retireGeneration } from './generation.js';
import { KnownRevisions } from './known-revisions.js';
import { ManageCycles } from './manage-cycles.js';
import type { Operations } from './operations.js';
import { OrphanTracker } from './orphans.js';
import { PresetLoggers } from './preset-loggers.js';
import { PresetRefresh } from './preset-refresh.js';

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

type Args<K extends keyof Operations> = Operations[K] extends (...args: infer A) => unknown ? A : never;

/**
 * The vmshepherd process: loads the configuration, keeps the preset catalog fresh on its own interval,
 * and runs the scheduler. SIGHUP → reload(), SIGTERM → stop(). What the API, panel and CLI may ask is
 * `operations` (daemon-operations.ts); the daemon answers it too, by delegating.
 */
export class Daemon implements Operations {
  readonly logger: Logger;
  readonly instanceId: string;
  readonly metrics = new Metrics();
  readonly operations: DaemonOperations;
  private gen: Generation;
  private scheduler: Scheduler;
  private readonly stopping = new AbortController();
  private readonly parts: DaemonParts;
  private readonly refresh: PresetRefresh;
  private readonly cycles: ManageCycles;
  onCycle: ((summary: CycleSummary) => void) | undefined;

  private constructor(
    private readonly options: DaemonOptions,
    private readonly registry: DriverRegistry,
    clock: Clock,
    config: ShepherdConfig,
  ) {
    this.instanceId = config.instanceId ?? `${hostname()}-${process.pid}`;
    this.logger = createLogger({
      level: config.logLevel,
      instance: this.instanceId,
      ...(options.pretty !== undefined ? { pretty: options.pretty } : {}),
      ...(options.logDestination ? { destination: options.logDestination } : {}),
    });
    this.gen = undefined as unknown as Generation;
    this.scheduler = undefined as unknown as Scheduler;
    this.parts = {
      instanceId: this.instanceId,
      logger: this.logger,
      clock,
      metrics: this.metrics,
      stopping: this.stopping.signal,
      healthQueue: new Limiter(config.manage.health_concurrency),
      fleetHealth: new FleetHealth(),
      knownRevisions: new KnownRevisions(),
      localTasks: new MemoryTaskStore(),
      orphanTracker: new OrphanTracker(),
      loggers: new PresetLoggers(this.logger),
      gen: () => this.gen,
      markDue: (name) => this.scheduler?.markDue(name),
      refreshSince: (since) => this.refresh.since(since),
    };
    this.refresh = new PresetRefresh(this.parts);
    this.cycles = new ManageCycles(this.parts);
    this.operations = new DaemonOperations(this.parts, () => this.scheduler?.busy ?? false);
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

  /** The task records in force: the runtime store's, or this process's for a store that keeps none. */
  get taskStore(): TaskStore {
    return this.gen.deps.tasks;
  }

  /** Last outcome per preset seen by this instance (for the CLI, API and tests). */
  get outcomes(): ReadonlyMap<string, ManageOutcome> {
    return this.cycles.outcomes;
  }

  /** Re-reads the preset store (cheap when nothing changed) and logs what changed and what is broken. */
  refreshPresets(): Promise<RefreshReport> {
    return this.refresh.refresh();
  }

  /** One refresh and one cycle (`--run-once`). */
  async runOnce(): Promise<CycleSummary> {
    await this.refreshPresets();
    return this.scheduler.runCycle();
  }

  /** One cycle over the presets as they are (the refresh runs on its own interval). */
  runCycle(): Promise<CycleSummary> {
    return this.scheduler.runCycle();
  }

  // Operations, answered by `operations`.
  http = (...a: Args<'http'>) => this.operations.http(...a);
  presets = (...a: Args<'presets'>) => this.operations.presets(...a);
  preset = (...a: Args<'preset'>) => this.operations.preset(...a);
  presetState = (...a: Args<'presetState'>) => this.operations.presetState(...a);
  plan = (...a: Args<'plan'>) => this.operations.plan(...a);
  orphans = (...a: Args<'orphans'>) => this.operations.orphans(...a);
  isCycling = (...a: Args<'isCycling'>) => this.operations.isCycling(...a);
  probeRuntime = (...a: Args<'probeRuntime'>) => this.operations.probeRuntime(...a);
  cloudVm = (...a: Args<'cloudVm'>) => this.operations.cloudVm(...a);
  requestTask = (...a: Args<'requestTask'>) => this.operations.requestTask(...a);
  requestVerb = (...a: Args<'requestVerb'>) => this.operations.requestVerb(...a);
  taskEnded = (...a: Args<'taskEnded'>) => this.operations.taskEnded(...a);
  listTasks = (...a: Args<'listTasks'>) => this.operations.listTasks(...a);
  getTask = (...a: Args<'getTask'>) => this.operations.getTask(...a);
  cancelTask = (...a: Args<'cancelTask'>) => this.operations.cancelTask(...a);
  answerHook = (...a: Args<'answerHook'>) => this.operations.answerHook(...a);

  async start(): Promise<void> {
    await this.refreshPresets();
    this.refresh.startTimer();
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
    await this.scheduler.stop();
    const wasRunning = this.refresh.stopTimer();
    const old = this.gen;
    const before = this.presets();
    const next = await this.build(config, old);
    // The new catalog is filled before it is in force: the API never sees an empty list mid-reload.
    const report = await next.catalog.refresh();
    const taken = before.length === 0 || next.catalog.presets().length > 0;
    if (taken) {
      this.gen = next;
      await retireGeneration(old, next);
      this.logger.level = config.logLevel;
      this.parts.loggers.clear(); // children keep the level they were made with
      this.scheduler = this.makeScheduler();
      this.refresh.noted(before, report);
    } else {
      // A path that moved or a wrong store would stop managing every preset: never taken from a reload.
      await retireGeneration(next, old);
      const e = new ShepherdError('preset_load_1011', `${before.length} presets now, none after it`);
      const why = report.problems.map((p) => p.message).join('; ');
      this.logger.error(
        { code: e.code, problems: report.problems.map((p) => p.code) },
        `reload rejected, keeping the running configuration: ${e.message}${why ? ` (${why})` : ''}`,
      );
    }
    if (wasRunning) {
      this.refresh.startTimer();
      this.scheduler.start();
    }
    if (taken) this.logger.info({ presets: this.presets().length }, 'configuration reloaded');
    return taken;
  }

  /** Stops starting work, lets manages in flight finish their calls, releases leases, closes drivers. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.refresh.stopTimer();
    await this.scheduler.stop();
    await this.refresh.released();
    await closeGeneration(this.gen);
    await stopTracing().catch((err) =>
      this.logger.warn({ err, code: 'observability_export_2001' }, 'trace export failed'),
    );
    this.logger.info('vmshepherd stopped');
    await new Promise<void>((done) => this.logger.flush(() => done()));
  }

  private build(config: ShepherdConfig, old: Generation | undefined): Promise<Generation> {
    const { registry, logger, parts } = this;
    return buildGeneration(config, old, {
      registry,
      logger,
      clock: parts.clock,
      shared: parts,
      onPresetsChanged: () => void this.refreshPresets(),
    });
  }

  private makeScheduler(): Scheduler {
    return this.cycles.scheduler((s) => this.onCycle?.(s));
  }
}
