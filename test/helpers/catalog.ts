import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseConfig } from '../../src/config/load-config.js';
import { catalogFor } from '../../src/daemon/catalog-for.js';
import { driverContext } from '../../src/daemon/driver-context.js';
import { DriverRegistry } from '../../src/drivers/registry.js';
import type { PresetStore } from '../../src/drivers/types.js';
import { createLogger } from '../../src/observability/logger.js';
import { systemClock } from '../../src/util/clock.js';

export const quietLogger = () =>
  createLogger({
    level: 'fatal',
    instance: 'test',
    pretty: false,
    destination: new Writable({ write: (_c, _e, done) => done() }),
  });

/** A preset catalog over `dir/presets` with the given main config text (written as dir/settings.yaml). */
export async function catalogIn(dir: string, settings: string) {
  const registry = new DriverRegistry([process.cwd()]);
  const { config, errors } = await parseConfig(settings, join(dir, 'settings.yaml'), registry, { env: {} });
  if (!config) throw new Error(errors.map((e) => e.message).join('\n'));
  config.baseDir = dir;
  const definition = await registry.resolve('presets', config.presets.driver);
  const store = (await definition.create(
    config.presets.options,
    driverContext(quietLogger(), systemClock, 'test', dir, config.presets.driver),
  )) as PresetStore;
  return catalogFor(config, registry, store);
}

export const SETTINGS = `runtime: {driver: InMemoryDriver}
presets: {driver: DirectoryDriver, path: presets}
defaults:
  iaas:
    driver: DummyIaasDriver
    latency: 0
    api_secret: s3cret-from-defaults
  healthcheck:
    driver: DummyHealthcheck
`;
