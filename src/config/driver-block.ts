import type { DriverRegistry } from '../drivers/registry.js';
import type { DriverDefinition, DriverKind, OptionsResult } from '../drivers/types.js';
import { ShepherdError } from '../errors/shepherd-error.js';
import { isPlainObject } from '../util/deep-merge.js';
import { issuesToErrors, type SourceLayer } from './report-issues.js';

type Path = (string | number)[];

/**
 * Older VmShepherd configs nest driver options under `driver_params:`; they are lifted into the block so
 * those files keep working.
 */
export function liftDriverParams(block: unknown): unknown {
  if (!isPlainObject(block) || !isPlainObject(block.driver_params)) return block;
  const { driver_params, ...rest } = block;
  return { ...driver_params, ...rest };
}

/** Splits a driver block into the keys the core reads and the options that belong to the driver. */
export function splitBlock(block: Record<string, unknown>, coreKeys: readonly string[]) {
  const core: Record<string, unknown> = {};
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(block)) (coreKeys.includes(key) ? core : options)[key] = value;
  return { core, options };
}

/**
 * Validates a driver's options with the driver's own parser. Results are cached by driver and options,
 * since a thousand presets usually share one `iaas:` block.
 */
export class DriverOptionsValidator {
  private readonly cache = new Map<string, OptionsResult<unknown>>();

  constructor(private readonly registry: DriverRegistry) {}

  async validate(
    kind: DriverKind,
    name: string,
    options: Record<string, unknown>,
    layers: readonly SourceLayer[],
    blockPath: Path,
    coreKeys: readonly string[],
    codes: { invalid: 'driver_options_1001'; unknown: 'config_load_1003' | 'preset_load_1003' },
  ): Promise<{ definition?: DriverDefinition; options?: Record<string, unknown>; errors: ShepherdError[] }> {
    let definition: DriverDefinition;
    try {
      definition = await this.registry.resolve(kind, name);
    } catch (err) {
      if (!(err instanceof ShepherdError)) throw err;
      return { errors: [err.withPosition(locateDriverKey(layers, blockPath))] };
    }
    const key = `${kind}:${name}:${JSON.stringify(options)}`;
    let result = this.cache.get(key);
    if (!result) {
      result = definition.parseOptions(options);
      this.cache.set(key, result);
    }
    if (result.ok) return { definition, options: result.value as Record<string, unknown>, errors: [] };
    const errors = issuesToErrors(result.issues, layers, codes, blockPath, [
      ...coreKeys,
      ...definition.optionKeys,
    ]);
    return { definition, errors };
  }
}

function locateDriverKey(layers: readonly SourceLayer[], blockPath: Path) {
  for (const { source, prefix } of layers) {
    const path = [...prefix, ...blockPath, 'driver'];
    if (source.has(path)) return source.position(path);
  }
  const first = layers[0];
  return first ? first.source.position([...first.prefix, ...blockPath]) : undefined;
}
