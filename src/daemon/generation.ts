import type { Logger } from 'pino';
import type { ShepherdConfig } from '../config/load-config.js';
import type { DriverRegistry } from '../drivers/registry.js';
import type { PresetStore, RuntimeStore } from '../drivers/types.js';
import { ShepherdError } from '../errors/shepherd-error.js';
import type { PresetCatalog } from '../presets/preset-catalog.js';
import type { Clock } from '../util/clock.js';
import { catalogFor } from './catalog-for.js';
import { buildDependencies, type Dependencies, type SharedParts } from './dependencies.js';
import { driverContext } from './driver-context.js';
import { DriverPool } from './driver-pool.js';

/** The parts built from one configuration; a reload builds new ones and swaps. */
export interface Generation {
  config: ShepherdConfig;
  runtime: RuntimeStore;
  store: PresetStore;
  catalog: PresetCatalog;
  pool: DriverPool;
  /** The dependency bags of this configuration's manages, task runs and previews. */
  deps: Dependencies;
  unwatch: () => void;
}

/** What building a generation needs besides the configuration. */
export interface GenerationInputs {
  registry: DriverRegistry;
  logger: Logger;
  clock: Clock;
  shared: SharedParts;
  /** Called (debounced) when the preset store says it changed. */
  onPresetsChanged: () => void;
}

/**
 * Makes the drivers, catalog and dependency bags of a configuration. Of the generation in force (`old`),
 * the runtime and preset stores are kept when their settings did not change.
 */
export async function buildGeneration(
  config: ShepherdConfig,
  old: Generation | undefined,
  inputs: GenerationInputs,
): Promise<Generation> {
  const { registry, logger, clock, shared } = inputs;
  for (const w of config.warnings) logger.warn({ code: w.code, at: w.at }, w.message);
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const ctx = (driver: string) => driverContext(logger, clock, shared.instanceId, config.baseDir, driver);
  const keepRuntime = old && same(old.config.runtime, config.runtime);
  const keepStore = old && same(old.config.presets, config.presets) && old.config.baseDir === config.baseDir;
  const runtime = keepRuntime
    ? old.runtime
    : ((await (
        await registry.resolve('runtime', config.runtime.driver)
      ).create(config.runtime.options, ctx(config.runtime.driver))) as RuntimeStore);
  const store = keepStore
    ? old.store
    : ((await (
        await registry.resolve('presets', config.presets.driver)
      ).create(config.presets.options, ctx(config.presets.driver))) as PresetStore);
  if (Object.keys(config.limits).length > 0 && !runtime.locks) {
    if (!keepRuntime) await runtime.close?.();
    throw new ShepherdError(
      'runtime_lock_1001',
      `runtime driver ${config.runtime.driver} keeps no locks, and limits: are set`,
    );
  }
  const catalog = catalogFor(config, registry, store);
  const pool = new DriverPool(registry, logger, clock, shared.instanceId, config.baseDir);
  pool.onCloudCall = (e) => shared.metrics.cloudCall(e);
  const unwatch = keepStore
    ? old.unwatch
    : (store.watch?.(debounce(inputs.onPresetsChanged, 300)) ?? (() => {}));
  const deps = buildDependencies({ config, runtime, catalog, pool }, shared);
  return { config, runtime, store, catalog, pool, deps, unwatch };
}

/** Closes what `old` had and `next` does not share (also a refused `next`, with the roles swapped). */
export async function retireGeneration(old: Generation, next: Generation): Promise<void> {
  if (next.runtime !== old.runtime) await old.runtime.close?.();
  if (next.store !== old.store) {
    old.unwatch();
    await old.store.close?.();
  }
  await old.pool.close();
}

/** Closes everything of the generation in force (the daemon stops). */
export async function closeGeneration(gen: Generation): Promise<void> {
  await gen.pool.close();
  gen.unwatch();
  await gen.store.close?.();
  await gen.runtime.close?.();
}

function debounce(fn: () => void, ms: number): () => void {
  let timer: NodeJS.Timeout | undefined;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
    timer.unref();
  };
}
