import type { DriverRegistry } from '../drivers/registry.js';
import type { DriverDefinition, DriverKind, OptionIssue, OptionsResult } from '../drivers/types.js';
import { ShepherdError } from '../errors/shepherd-error.js';
import { isPlainObject } from '../util/deep-merge.js';
import { didYouMean } from '../util/suggest.js';
import { parseIgnoringUnknown } from './ignore-unknown.js';
import { dotted, issuesToErrors, issueWarnings, type SourceLayer } from './report-issues.js';

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

type Validated = {
  result: OptionsResult<unknown>;
  ignored: OptionIssue[];
};

/**
 * Validates a driver's options with the driver's own parser. A top-level key the driver does not read is
 * a warning naming the built-in drivers that read it (the original passed every key to the driver, which
 * read what it knew); values the driver converted are warnings too. Results are cached by driver and
 * options, since a thousand presets usually share one `iaas:` block.
 */
export class DriverOptionsValidator {
  private readonly cache = new Map<string, Validated>();

  constructor(private readonly registry: DriverRegistry) {}

  async validate(
    kind: DriverKind,
    name: string,
    options: Record<string, unknown>,
    layers: readonly SourceLayer[],
    blockPath: Path,
    coreKeys: readonly string[],
    codes: { invalid: 'driver_options_1001'; unknown: 'config_load_1003' | 'preset_load_1003' },
  ): Promise<{
    definition?: DriverDefinition;
    options?: Record<string, unknown>;
    errors: ShepherdError[];
    warnings: ShepherdError[];
  }> {
    let definition: DriverDefinition;
    try {
      definition = await this.registry.resolve(kind, name);
    } catch (err) {
      if (!(err instanceof ShepherdError)) throw err;
      return { errors: [err.withPosition(locateDriverKey(layers, blockPath))], warnings: [] };
    }
    const key = `${kind}:${name}:${JSON.stringify(options)}`;
    let validated = this.cache.get(key);
    if (!validated) {
      const d = definition;
      validated = parseIgnoringUnknown(
        (o) => d.parseOptions(o),
        options,
        (i) => i.path.length === 1,
      );
      this.cache.set(key, validated);
    }
    const { result, ignored } = validated;
    const known = [...coreKeys, ...definition.optionKeys];
    const block = String(blockPath[blockPath.length - 1]);
    const warnings = [
      ...issueWarnings(ignored, layers, 'driver_options_1002', blockPath, (i) =>
        notReadBy(
          block,
          String(i.unknownKey),
          name,
          this.registry.builtinsReading(kind, String(i.unknownKey), name),
          known,
        ),
      ),
      ...issueWarnings(
        result.warnings ?? [],
        layers,
        'driver_options_1003',
        blockPath,
        (i) => `${dotted([block, ...i.path])}: ${i.message}`,
      ),
    ];
    if (result.ok)
      return { definition, options: result.value as Record<string, unknown>, errors: [], warnings };
    const errors = issuesToErrors(result.issues, layers, codes, blockPath, known);
    return { definition, errors, warnings };
  }
}

/** `iaas: 'project_name' is not read by DummyIaasDriver (OpenStackDriver reads it)`, plus a likely typo. */
export function notReadBy(
  block: string,
  key: string,
  driver: string,
  readers: readonly string[],
  known: readonly string[],
): string {
  const who =
    readers.length > 0 ? ` (${readers.join(', ')} ${readers.length === 1 ? 'reads' : 'read'} it)` : '';
  return `${block}: '${key}' is not read by ${driver}${who}${didYouMean(key, known)}`;
}

function locateDriverKey(layers: readonly SourceLayer[], blockPath: Path) {
  for (const { source, prefix } of layers) {
    const path = [...prefix, ...blockPath, 'driver'];
    if (source.has(path)) return source.position(path);
  }
  const first = layers[0];
  return first ? first.source.position([...first.prefix, ...blockPath]) : undefined;
}
