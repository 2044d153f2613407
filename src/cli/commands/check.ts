import { loadConfig } from '../../config/load-config.js';
import { uniqueProblems } from '../../config/report-issues.js';
import { catalogFor } from '../../daemon/catalog-for.js';
import { Daemon } from '../../daemon/daemon.js';
import { driverContext } from '../../daemon/driver-context.js';
import type { PresetStore } from '../../drivers/types.js';
import type { ShepherdError } from '../../errors/shepherd-error.js';
import { createLogger } from '../../observability/logger.js';
import { systemClock } from '../../util/clock.js';
import { errorLine, type OutputFormat, print, printErr, printJson } from '../output.js';

const isWarning = (e: ShepherdError) => e.isWarning;

/** A valid preset as `check --output json` lists it. */
interface CheckedPreset {
  name: string;
  file: string;
  revision: string;
  count: number;
  /** The bounds of a count that follows demand (docs/demand.md). */
  demand?: { min: number; max: number };
}

/**
 * `vmshepherd check -c FILE`: validates the configuration and every preset without connecting to any
 * cloud or runtime store; lists every problem, exits 1 when there is an error. With `strict` (or
 * `strict: true` in the file) warnings are errors, for CI.
 */
export async function checkCommand(
  configFile: string,
  output: OutputFormat,
  strict = false,
): Promise<number> {
  const registry = Daemon.registryFor({ configFile });
  const { config, errors, warnings } = await loadConfig(configFile, registry, { strict });
  let problems: ShepherdError[] = [...errors, ...warnings];
  let presets: CheckedPreset[] = [];
  if (config) {
    const logger = createLogger({
      level: 'error',
      instance: 'check',
      pretty: false,
      destination: process.stderr,
    });
    const definition = await registry.resolve('presets', config.presets.driver);
    const ctx = driverContext(logger, systemClock, 'check', config.baseDir, config.presets.driver);
    const store = (await definition.create(config.presets.options, ctx)) as PresetStore;
    const catalog = catalogFor(config, registry, store);
    // A key of the main config's defaults is reported there and by the presets: once is enough.
    problems = uniqueProblems([...problems, ...(await catalog.refresh()).problems]);
    await store.close?.();
    presets = catalog.presets().map((p) => ({
      name: p.name,
      file: p.source.file,
      revision: p.source.revision,
      count: p.count,
      // A count that follows demand is decided by a manage: `count` is its floor until then.
      ...(p.demand ? { demand: { min: p.demand.min, max: p.demand.max } } : {}),
    }));
  }
  const failures = problems.filter((e) => !isWarning(e));
  if (output === 'json') {
    printJson({
      ok: failures.length === 0,
      presets,
      errors: failures.map((e) => e.toJSON()),
      warnings: problems.filter(isWarning).map((e) => e.toJSON()),
    });
  } else {
    for (const e of problems) printErr(errorLine(e, isWarning(e) ? 'warning' : 'error'));
    if (config) print(`${presets.length} preset(s) valid: ${presets.map((p) => p.name).join(', ') || '-'}`);
    print(failures.length === 0 ? 'configuration OK' : `${failures.length} error(s)`);
  }
  return failures.length === 0 ? 0 : 1;
}
