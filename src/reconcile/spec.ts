import { randomBytes } from 'node:crypto';
import { META_PARTS, META_PRESET, META_REVISION, META_SPEC, type VmSpec } from '../drivers/types.js';
import type { Preset } from '../presets/preset.js';
import { encodeParts } from '../presets/spec-parts.js';

/** What the cloud is asked to build for one VM of the preset. */
export function vmSpec(preset: Preset): VmSpec {
  return {
    preset: preset.name,
    // Names only help people: membership is by metadata, so a unique suffix is enough.
    name: `${preset.name}-${randomBytes(3).toString('hex')}`,
    ...(preset.image ? { image: preset.image } : {}),
    ...(preset.flavor ? { flavor: preset.flavor } : {}),
    ...(preset.keyName ? { keyName: preset.keyName } : {}),
    ...(preset.userdata ? { userdata: preset.userdata } : {}),
    network: preset.network,
    ...(preset.serverGroup ? { serverGroup: preset.serverGroup } : {}),
    ...(preset.volume ? { volume: preset.volume } : {}),
    ...(preset.configDrive ? { configDrive: true } : {}),
    metadata: {
      ...preset.metaTagText,
      [META_PRESET]: preset.name,
      [META_SPEC]: preset.specHash,
      [META_PARTS]: encodeParts(preset.specParts),
      [META_REVISION]: preset.source.revision,
    },
    specHash: preset.specHash,
  };
}

/** Unique per create attempt; the preset is in the metadata beside it, so it is not repeated here. */
export function idempotencyKey(token: number): string {
  return `${token}-${randomBytes(6).toString('hex')}`;
}
