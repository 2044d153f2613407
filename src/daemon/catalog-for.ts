import { DriverOptionsValidator } from '../config/driver-block.js';
import type { ShepherdConfig } from '../config/load-config.js';
import type { DriverRegistry } from '../drivers/registry.js';
import type { PresetStore } from '../drivers/types.js';
import { PresetCatalog } from '../presets/preset-catalog.js';
import { resolveConfigPath } from '../util/resolve-path.js';

/** The preset catalog of a configuration: its defaults, and the userdata root the operator trusts. */
export function catalogFor(
  config: ShepherdConfig,
  registry: DriverRegistry,
  store: PresetStore,
): PresetCatalog {
  const trusted = config.defaults.userdata_source_root;
  return new PresetCatalog(store, {
    validator: new DriverOptionsValidator(registry),
    defaults: config.defaults,
    defaultsLayer: config.defaultsLayer,
    strict: config.strict,
    presetsMaySetEndpoints: config.presetsMaySetEndpoints,
    ...(typeof trusted === 'string'
      ? { trustedUserdataRoot: resolveConfigPath(config.baseDir, trusted) }
      : {}),
  });
}
