import { PRESET_KEYS } from '../config/preset-schema.js';
import { presetTooLarge } from '../drivers/presets/preset-too-large.js';
import type { PresetSource } from '../drivers/types.js';
import { ShepherdError } from '../errors/shepherd-error.js';
import { isPlainObject } from '../util/deep-merge.js';
import { closestKey } from '../util/suggest.js';
import { YamlSource } from '../util/yaml-source.js';

/** A preset file's text as YAML with positions, refused when too large, broken or not a mapping. */
export function readPresetYaml(
  source: PresetSource,
  text: string,
):
  | { yaml: YamlSource; raw: Record<string, unknown>; warnings: ShepherdError[] }
  | { errors: ShepherdError[] } {
  const tooLarge = presetTooLarge(Buffer.byteLength(text), source.file);
  if (tooLarge) return { errors: [tooLarge] };
  const parsed = YamlSource.parse(text, source.file, {
    syntax: 'preset_load_1001',
    duplicate: 'preset_load_1008',
  });
  if (!parsed.source) return { errors: parsed.errors };
  const yaml = parsed.source;
  const raw = yaml.toJS();
  if (!isPlainObject(raw))
    return {
      errors: [
        new ShepherdError('preset_load_1002', 'a preset file must be a mapping of keys', {
          at: yaml.position([]),
        }),
      ],
    };
  return { yaml, raw, warnings: parsed.warnings };
}

/** Top-level keys are template variables when unknown, but one that is one typo away from a key is suspicious. */
export function typoWarnings(raw: Record<string, unknown>, yaml: YamlSource): ShepherdError[] {
  const warnings: ShepherdError[] = [];
  for (const key of Object.keys(raw)) {
    if (PRESET_KEYS.includes(key) || key === 'driver_params') continue;
    const near = closestKey(key, PRESET_KEYS);
    if (near) {
      warnings.push(
        new ShepherdError('preset_load_1006', `'${key}' (did you mean '${near}'?)`, {
          at: yaml.keyPosition([key]),
        }),
      );
    }
  }
  return warnings;
}
