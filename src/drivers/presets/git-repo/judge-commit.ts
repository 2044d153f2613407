import { isPlainObject } from '../../../util/deep-merge.js';
import { readYaml } from '../../../util/yaml-source.js';

export interface PresetFile {
  /** Path inside the repository, e.g. `presets/web.conf`. */
  path: string;
  /** Name inside the preset directory, e.g. `web.conf`. */
  name: string;
  /** Its text; absent when the file is over MAX_PRESET_BYTES (never read, refused with preset_load_1013). */
  text?: string;
  size: number;
}

export type CommitVerdict = { accept: true } | { accept: false; reason: string };

/**
 * Whether a fetched commit may replace the last good one. A commit is garbage, and refused, when its
 * preset directory is missing, holds no preset file, or none of its preset files is a YAML mapping with
 * a `name`: accepting it would stop managing every preset of the repository at once. Anything else is
 * accepted; the catalog then validates each file, keeps a broken file's last good revision, and reports
 * presets that disappeared (their VMs are left alone as orphans).
 */
export function judgeCommit(
  dirExists: boolean,
  dir: string,
  files: PresetFile[],
  extensions: string[],
): CommitVerdict {
  const where = dir === '' ? 'the top of the repository' : `'${dir}'`;
  if (!dirExists) return { accept: false, reason: `${where} is not a directory in this commit` };
  if (files.length === 0) return { accept: false, reason: `no ${extensions.join('/')} file in ${where}` };
  // Only files within the size limit are parsed (in name order, until one is a preset).
  if (!files.some((f) => f.text !== undefined && looksLikePreset(f.text))) {
    const big = files.filter((f) => f.text === undefined).length;
    return {
      accept: false,
      reason: `none of the ${files.length} preset files in ${where} is a YAML mapping with a name${big > 0 ? ` (${big} over the preset size limit, not read)` : ''}`,
    };
  }
  return { accept: true };
}

function looksLikePreset(text: string): boolean {
  try {
    // Read as the preset loader reads it: `name: 2024` is a name (taken as "2024"), as in the original.
    const value: unknown = readYaml(text);
    return isPlainObject(value) && value.name !== undefined && value.name !== null && value.name !== '';
  } catch {
    return false;
  }
}
